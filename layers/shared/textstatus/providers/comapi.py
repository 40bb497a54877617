"""Comapi / dotdigital Enterprise Communications API: status by GET, signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from textstatus import config
from textstatus.config import EnvSettings, Secret
from textstatus.errors import (
    CallbackAuthenticationError,
    InvalidCallbackError,
    InvalidRequestError,
    ProviderBadResponseError,
)
from textstatus.events import Observation, is_valid_message_id
from textstatus.observability import count, logger
from textstatus.providers.base import (
    MAX_PROVIDER_DETAIL,
    CallbackRequest,
    HttpSettings,
    Outcome,
    ParsedCallback,
    ProviderAdapter,
    SentMessage,
    SentMessages,
    credentials_match,
    first_usable_time,
    join_detail,
    load_json,
    quoted,
)
from textstatus.status import Reason, Status


class ComapiSettings(EnvSettings):
    base_url: str = Field("https://api.comapi.com", alias="COMAPI_BASE_URL", pattern=r"^https?://")
    api_space_id: str = Field(alias="COMAPI_API_SPACE_ID", pattern=r"^[A-Za-z0-9-]{1,64}$")
    token: Secret = Field(alias="COMAPI_TOKEN")
    webhook_secret: Secret = Field(alias="COMAPI_WEBHOOK_SECRET")


# Webhook events about other things than a message's delivery: acknowledged, not stored.
IGNORED_EVENTS = frozenset({"message.inbound", "interaction.click"})
MAX_ENVELOPES = 1000
# The words a send call itself answers (the 201's `status`: processing, failed or sent). Any
# other word in a send response is not something Comapi said at send time: it is dropped.
SEND_RESPONSE_STATUSES = frozenset({"processing", "sent", "failed"})


class ComapiAdapter(ProviderAdapter):
    name = "comapi"
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

    def __init__(self, settings: ComapiSettings, http: HttpSettings) -> None:
        super().__init__(http)
        self._settings = settings
        self._messages_url = f"{settings.base_url.rstrip('/')}/apispaces/{settings.api_space_id}/messages"

    @classmethod
    def from_config(cls, http: HttpSettings) -> ComapiAdapter:
        return cls(config.load(ComapiSettings), http)

    @classmethod
    def canonical_word(cls, raw: str) -> str:
        return raw.strip().lower()

    def fetch_status(self, message_id: str, now: datetime) -> Observation | None:
        body = self._get_resource(
            f"{self._messages_url}/{message_id}",
            headers={"Accept": "application/json", "Authorization": f"Bearer {self._settings.token.reveal()}"},
        )
        if body is None:
            return None
        observation = self._message_observation(message_id, body, now)
        if observation is None:
            raise ProviderBadResponseError(self.name, "a message without a status")
        return observation

    def _message_observation(self, message_id: str, message: dict[str, Any], now: datetime) -> Observation | None:
        """A message resource (Get Status, or the 201 send response) as an observation."""
        word = message.get("status")
        if not isinstance(word, str) or not word.strip():
            return None
        event_at, notes = first_usable_time(
            [("_updatedOn", message.get("_updatedOn")), ("sentOn", message.get("sentOn"))], now
        )
        return self.observe(
            message_id,
            word.strip(),
            event_at or now,
            provider_gave_time=event_at is not None,
            detail=join_detail(_describe(message.get("statusDetails")), *notes),
        )

    # Webhooks ------------------------------------------------------------------------------

    def authenticate_callback(self, request: CallbackRequest) -> None:
        """X-Comapi-Signature: hex HMAC-SHA1 of the exact raw body, keyed with the webhook secret."""
        secret = self._settings.webhook_secret.reveal().encode()
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
        if not isinstance(envelope, dict) or not isinstance(envelope.get("name"), str):
            raise InvalidCallbackError("each webhook event is an object with a name")
        name: str = envelope["name"]
        if name in IGNORED_EVENTS or not name.startswith("message."):
            return None
        payload = envelope.get("payload")
        if not isinstance(payload, dict):
            raise InvalidCallbackError("a message event has a payload", target="payload")
        message_id = self.require_message_id(payload.get("id"))
        event_id = envelope.get("eventId")
        if not isinstance(event_id, str) or not event_id or len(event_id) > 128:
            raise InvalidCallbackError("a webhook event has an eventId", target="eventId")
        channel = _sms_status(payload)
        word = self.require_word(channel.get("status") if "status" in channel else name.removeprefix("message."))
        # The channel's time, else the payload's, else the envelope's; an unusable one is
        # treated as missing and quoted in the detail.
        event_at, notes = first_usable_time(
            [
                ("updatedOn", channel.get("updatedOn")),
                ("updatedOn", payload.get("updatedOn")),
                ("timestamp", envelope.get("timestamp")),
            ],
            received_at,
        )
        return self.observe(
            message_id,
            word,
            event_at or received_at,
            provider_gave_time=event_at is not None,
            detail=join_detail(_describe(channel.get("details")), *notes),
            provider_event_id=event_id,
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
                message_id = item.get("messageId") if isinstance(item, dict) else None
                if is_valid_message_id(message_id):
                    assert isinstance(message_id, str)
                    messages.append(SentMessage(message_id))
                else:
                    ignored.append(f"item {position}: no valid messageId")
            if not messages:
                raise InvalidRequestError(
                    "a Comapi batch send response lists {index, messageId}", target="sendResponse"
                )
            return SentMessages(messages, ignored)
        if not isinstance(payload, dict) or not is_valid_message_id(payload.get("messageId")):
            raise InvalidRequestError("a Comapi send response has a messageId", target="sendResponse")
        message_id = str(payload["messageId"])
        first = self._message_observation(message_id, payload, now)
        if first is not None and self.canonical_word(first.provider_status or "") not in SEND_RESPONSE_STATUSES:
            first = None
        return SentMessages([SentMessage(message_id, first)])


def _sms_status(payload: dict[str, Any]) -> dict[str, Any]:
    details = payload.get("details")
    statuses = details.get("channelStatus") if isinstance(details, dict) else None
    sms = statuses.get("sms") if isinstance(statuses, dict) else None
    return sms if isinstance(sms, dict) else {}


def _describe(details: Any) -> str | None:
    """A short, flat text of the provider's status details (never the whole object).

    Values are rendered by `quoted`, which never raises (`str()` of a very long integer does).
    """
    if isinstance(details, str):
        return details[:MAX_PROVIDER_DETAIL] or None
    if isinstance(details, dict):
        parts: list[str] = []
        size = 0
        for key, value in details.items():
            if size > MAX_PROVIDER_DETAIL:
                break
            if isinstance(value, str):
                text = f"{key}={value[:MAX_PROVIDER_DETAIL]}"
            elif isinstance(value, int | float):
                text = f"{key}={quoted(value)}"
            else:
                continue
            parts.append(text)
            size += len(text) + 2
        return ", ".join(parts)[:MAX_PROVIDER_DETAIL] or None
    return None
