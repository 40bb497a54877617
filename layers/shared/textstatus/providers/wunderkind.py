"""Wunderkind Text Message API: status by GET, callbacks authenticated by static headers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import AliasChoices, Field

from textstatus.config import ProviderSettings, Secret
from textstatus.correlation import read_correlation
from textstatus.errors import CallbackAuthenticationError
from textstatus.events import Observation
from textstatus.providers.base import Outcome, ProviderAdapter, SentMessage, SentMessages
from textstatus.providers.callbacks import (
    CallbackRequest,
    ParsedCallback,
    credentials_match,
    load_json,
    squeeze_whitespace,
)
from textstatus.providers.payloads import MessageId, NamedMessage, Payload, Text, Word
from textstatus.status import Reason, Status


class WunderkindCallback(Payload):
    """The callback's JSON. The docs spell it `messageID`; the status API `messageId`: both are
    accepted. Phone and email are personal: never read. `callbackData` is the sender's own JSON
    string, read as correlation data (whatever its shape: it never fails the callback)."""

    described: ClassVar[str] = "a Wunderkind callback"
    message_id: MessageId = Field(validation_alias=AliasChoices("messageID", "messageId"))
    status: Word
    callback_data: Any = Field(None, alias="callbackData")


class WunderkindStatus(Payload):
    """GET /text/message/status answers {"status": "..."}."""

    described: ClassVar[str] = "a Wunderkind status answer"
    status: Text
    message_id: Any = Field(None, alias="messageId")

    def names(self) -> tuple[object, ...]:
        return (self.message_id,)


class WunderkindSent(NamedMessage):
    """POST /text/message/send answers {"messageId": "..."}: an id, no status."""

    described: ClassVar[str] = "a Wunderkind send response"


class WunderkindSettings(ProviderSettings, env_prefix="WUNDERKIND_"):
    base_url: str = Field("https://api.wknd.ai", pattern=r"^https?://")
    client_id: Secret
    client_secret: Secret
    callback_header_id: str = Field("X-Client-ID", min_length=1)
    callback_header_secret: str = Field("X-Client-Secret", min_length=1)
    callback_id: Secret
    callback_secret: Secret


class WunderkindAdapter(ProviderAdapter):
    name = "wunderkind"
    settings_model = WunderkindSettings
    settings: WunderkindSettings
    retention = timedelta(days=7)
    callback_methods = frozenset({"POST", "PUT"})
    statuses: ClassVar[Mapping[str, Outcome]] = {
        "PENDING_TO_SEND": Outcome(Status.ACCEPTED),
        "SENDING": Outcome(Status.SENDING),
        "DELIVERED": Outcome(Status.DELIVERED),
        "FAILED_TO_SEND": Outcome(Status.FAILED, Reason.PROVIDER_ERROR),
        "FAILED_TO_DELIVERY": Outcome(Status.UNDELIVERED, Reason.CARRIER_ERROR),
        "NOT_FOUND": Outcome(Status.REJECTED, Reason.NO_SUBSCRIPTION),
        "NOT_SUBSCRIBED": Outcome(Status.REJECTED, Reason.NOT_SUBSCRIBED),
        "FAILED_TO_MATCH": Outcome(Status.REJECTED, Reason.NO_MATCH),
    }

    @classmethod
    def canonical_word(cls, raw: str) -> str:
        return squeeze_whitespace(raw).upper()

    def fetch_status(self, message_id: str, now: datetime) -> Observation | None:
        answer = self.fetch_answer(
            WunderkindStatus,
            "GET",
            f"{self.base_url}/text/message/status",
            about=message_id,
            params={"messageId": message_id},
            headers={
                "Accept": "application/json",
                "X-Client-ID": self.settings.client_id.reveal(),
                "X-Client-Secret": self.settings.client_secret.reveal(),
            },
        )
        return None if answer is None else self.observe(message_id, answer.status, now)

    def messages_in_send_response(self, payload: Any, now: datetime) -> SentMessages:
        sent = self.read_send_response(WunderkindSent, payload)
        return SentMessages([SentMessage(sent.message_id)])

    def authenticate_callback(self, request: CallbackRequest) -> None:
        settings = self.settings
        id_ok = credentials_match(request.header(settings.callback_header_id), settings.callback_id.reveal())
        secret_ok = credentials_match(
            request.header(settings.callback_header_secret), settings.callback_secret.reveal()
        )
        if not (id_ok and secret_ok):
            raise CallbackAuthenticationError("missing or invalid callback credentials")

    def parse_callback(self, request: CallbackRequest, received_at: datetime) -> ParsedCallback:
        callback = self.read_callback(WunderkindCallback, load_json(request.body, "the callback body"))
        correlation = read_correlation(self.name, callback.message_id, callback.callback_data, encoded=True)
        # Wunderkind gives no event time: the time we received it stands in.
        observation = self.observe(callback.message_id, callback.status, received_at, correlation=correlation)
        return ParsedCallback([observation])
