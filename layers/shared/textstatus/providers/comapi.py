"""Comapi / dotdigital Enterprise Communications API: status by GET, signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from textstatus.config import ProviderSettings, Secret
from textstatus.correlation import read_correlation
from textstatus.errors import CallbackAuthenticationError, InvalidCallbackError, InvalidRequestError
from textstatus.events import Observation
from textstatus.observability import count, logger
from textstatus.providers.base import Outcome, ProviderAdapter, SentMessage, SentMessages
from textstatus.providers.callbacks import CallbackRequest, ParsedCallback, credentials_match, load_json, require_word
from textstatus.providers.comapi_payloads import (
    ComapiBatchItem,
    ComapiEvent,
    ComapiMessage,
    ComapiMessageEvent,
    ComapiSent,
    ComapiStatus,
    describe,
)
from textstatus.providers.payloads import first_usable_time, join_detail
from textstatus.status import Reason, Status

# Webhook events about other things than a message's delivery: acknowledged, not stored.
IGNORED_EVENTS = frozenset({"message.inbound", "interaction.click"})
MAX_ENVELOPES = 1000
# The words a send call itself answers (the 201's `status`: processing, failed or sent). Any
# other word in a send response is not something Comapi said at send time: it is dropped.
SEND_RESPONSE_STATUSES = frozenset({"processing", "sent", "failed"})


class ComapiSettings(ProviderSettings, env_prefix="COMAPI_"):
    base_url: str = Field("https://api.comapi.com", pattern=r"^https?://")
    api_space_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    token: Secret
    webhook_secret: Secret


class ComapiAdapter(ProviderAdapter):
    name = "comapi"
    settings_model = ComapiSettings
    settings: ComapiSettings
    words_match_case = False
    statuses: ClassVar[Mapping[str, Outcome]] = {
        "processing": Outcome(Status.ACCEPTED),
        "retrying": Outcome(Status.SENDING),
        "sent": Outcome(Status.SENT),
        "delivered": Outcome(Status.DELIVERED),
        "read": Outcome(Status.DELIVERED),
        "expired": Outcome(Status.UNDELIVERED, Reason.EXPIRED_AT_PROVIDER),
        "failed": Outcome(Status.FAILED, Reason.PROVIDER_ERROR),
        "filtered": Outcome(Status.REJECTED, Reason.UNKNOWN),
    }

    def fetch_status(self, message_id: str, now: datetime) -> Observation | None:
        answer = self.fetch_answer(
            ComapiStatus,
            "GET",
            f"{self.base_url}/apispaces/{self.settings.api_space_id}/messages/{message_id}",
            about=message_id,
            headers={"Accept": "application/json", "Authorization": f"Bearer {self.settings.token.reveal()}"},
        )
        if answer is None:
            return None
        # The message's `metadata` is what the sender gave at send time: correlation data.
        correlation = read_correlation(self.name, message_id, answer.metadata)
        return self._message_observation(message_id, answer, now, correlation=correlation)

    def _message_observation(
        self, message_id: str, message: ComapiMessage, now: datetime, **extra: Any
    ) -> Observation | None:
        """A message resource (Get Status, or the 201 send response) as an observation."""
        if message.status is None:
            return None
        event_at, notes = first_usable_time([("_updatedOn", message.updated_on), ("sentOn", message.sent_on)], now)
        return self.observe(
            message_id,
            message.status,
            event_at or now,
            provider_gave_time=event_at is not None,
            detail=join_detail(describe(message.status_details), *notes),
            **extra,
        )

    # Webhooks ------------------------------------------------------------------------------

    def authenticate_callback(self, request: CallbackRequest) -> None:
        """X-Comapi-Signature: hex HMAC-SHA1 of the exact raw body, keyed with the webhook secret."""
        secret = self.settings.webhook_secret.reveal().encode()
        expected = hmac.new(secret, request.body, hashlib.sha1).hexdigest()
        given = request.header("X-Comapi-Signature")
        if not credentials_match(given.strip().lower() if given else None, expected):
            raise CallbackAuthenticationError("missing or invalid X-Comapi-Signature")

    def parse_callback(self, request: CallbackRequest, received_at: datetime) -> ParsedCallback:
        """One envelope, or a batch (a JSON array) of them.

        Each envelope of a batch stands alone: Comapi never retries a 400, so refusing a whole
        batch for one bad element would lose every good event in it. A bad element is counted
        as ignored (logged by index and reason, never its content); only a body with nothing
        usable in it (not JSON, empty, too long, or a single bad envelope) is refused.
        """
        payload = load_json(request.body, "the webhook body")
        if not isinstance(payload, list):
            observation = self._envelope_observation(payload, received_at)
            return ParsedCallback([observation] if observation else [], 0 if observation else 1)
        if not payload or len(payload) > MAX_ENVELOPES:
            raise InvalidCallbackError(f"a webhook body holds 1 to {MAX_ENVELOPES} events")
        observations: list[Observation] = []
        ignored = 0
        for index, envelope in enumerate(payload):
            try:
                observation = self._envelope_observation(envelope, received_at)
            except InvalidCallbackError as exc:
                logger.warning(
                    "invalid event in a webhook batch ignored",
                    extra={"provider": self.name, "index": index, "reason": exc.message},
                )
                count("CallbackItemsInvalid")
                observation = None
            if observation is None:
                ignored += 1
            else:
                observations.append(observation)
        return ParsedCallback(observations, ignored)

    def _envelope_observation(self, envelope: Any, received_at: datetime) -> Observation | None:
        name = self.read_callback(ComapiEvent, envelope).name
        if name in IGNORED_EVENTS or not name.startswith("message."):
            return None
        event = self.read_callback(ComapiMessageEvent, envelope)
        channel = event.payload.sms
        word = require_word(channel.status if "status" in channel.model_fields_set else name.removeprefix("message."))
        # The channel's time, else the payload's, else the envelope's; an unusable one is
        # treated as missing and quoted in the detail.
        event_at, notes = first_usable_time(
            [
                ("updatedOn", channel.updated_on),
                ("updatedOn", event.payload.updated_on),
                ("timestamp", event.timestamp),
            ],
            received_at,
        )
        return self.observe(
            event.payload.id,
            word,
            event_at or received_at,
            provider_gave_time=event_at is not None,
            detail=join_detail(describe(channel.details), *notes),
            provider_event_id=event.event_id,
            correlation=read_correlation(self.name, event.payload.id, event.payload.metadata),
        )

    # Registration ----------------------------------------------------------------------------

    def messages_in_send_response(self, payload: Any, now: datetime) -> SentMessages:
        """201 with one message resource, or 202 with [{index, messageId}, ...] for a batch.

        A batch element without a valid messageId is skipped with a reason (its position in
        the array), so the others are still tracked; only a batch with none is refused.
        """
        if isinstance(payload, list):
            messages: list[SentMessage] = []
            ignored: list[str] = []
            for position, item in enumerate(payload):
                try:
                    messages.append(SentMessage(self.read_send_response(ComapiBatchItem, item).message_id))
                except InvalidRequestError:
                    ignored.append(f"item {position}: no valid messageId")
            if not messages:
                raise InvalidRequestError(
                    "a Comapi batch send response lists {index, messageId}", target="sendResponse"
                )
            return SentMessages(messages, ignored)
        sent = self.read_send_response(ComapiSent, payload)
        first = self._message_observation(sent.message_id, sent, now)
        if first is not None and self.canonical_word(first.provider_status or "") not in SEND_RESPONSE_STATUSES:
            first = None
        return SentMessages([SentMessage(sent.message_id, first)])
