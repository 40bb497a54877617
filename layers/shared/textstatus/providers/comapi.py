"""Comapi / dotdigital Enterprise Communications API: status by GET, signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from textstatus import config
from textstatus.clock import provider_time
from textstatus.config import EnvSettings, Secret
from textstatus.errors import (
    CallbackAuthenticationError,
    InvalidCallbackError,
    InvalidRequestError,
    ProviderBadResponseError,
)
from textstatus.events import Observation, is_valid_message_id
from textstatus.providers.base import (
    CallbackRequest,
    HttpSettings,
    Outcome,
    ParsedCallback,
    ProviderAdapter,
    SentMessage,
    credentials_match,
    load_json,
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
        event_at = provider_time(message.get("_updatedOn"), now) or provider_time(message.get("sentOn"), now)
        return self.observe(
            message_id,
            word.strip(),
            event_at or now,
            provider_gave_time=event_at is not None,
            detail=_describe(message.get("statusDetails")),
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
        payload = load_json(request.body, "the webhook body")
        envelopes = payload if isinstance(payload, list) else [payload]
        if not envelopes or len(envelopes) > MAX_ENVELOPES:
            raise InvalidCallbackError(f"a webhook body holds 1 to {MAX_ENVELOPES} events")
        observations: list[Observation] = []
        ignored = 0
        for envelope in envelopes:
            observation = self._envelope_observation(envelope, received_at)
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
        event_at = (
            provider_time(channel.get("updatedOn"), received_at)
            or provider_time(payload.get("updatedOn"), received_at)
            or provider_time(envelope.get("timestamp"), received_at)
        )
        return self.observe(
            message_id,
            word,
            event_at or received_at,
            provider_gave_time=event_at is not None,
            detail=_describe(channel.get("details")),
            provider_event_id=event_id,
        )

    # Registration ----------------------------------------------------------------------------

    def messages_in_send_response(self, payload: Any, now: datetime) -> list[SentMessage]:
        """201 with one message resource, or 202 with [{index, messageId}, ...] for a batch."""
        if isinstance(payload, list):
            if not payload or not all(
                isinstance(item, dict) and is_valid_message_id(item.get("messageId")) for item in payload
            ):
                raise InvalidRequestError(
                    "a Comapi batch send response lists {index, messageId}", target="sendResponse"
                )
            return [SentMessage(str(item["messageId"])) for item in payload]
        if not isinstance(payload, dict) or not is_valid_message_id(payload.get("messageId")):
            raise InvalidRequestError("a Comapi send response has a messageId", target="sendResponse")
        message_id = str(payload["messageId"])
        return [SentMessage(message_id, self._message_observation(message_id, payload, now))]


def _sms_status(payload: dict[str, Any]) -> dict[str, Any]:
    details = payload.get("details")
    statuses = details.get("channelStatus") if isinstance(details, dict) else None
    sms = statuses.get("sms") if isinstance(statuses, dict) else None
    return sms if isinstance(sms, dict) else {}


def _describe(details: Any) -> str | None:
    """A short, flat text of the provider's status details (never the whole object)."""
    if isinstance(details, str):
        return details[:500] or None
    if isinstance(details, dict):
        text = ", ".join(f"{key}={value}" for key, value in details.items() if isinstance(value, str | int | float))
        return text[:500] or None
    return None
