"""Wunderkind Text Message API: status by GET, callbacks authenticated by static headers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
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
from textstatus.providers.base import (
    CallbackRequest,
    HttpSettings,
    Outcome,
    ParsedCallback,
    ProviderAdapter,
    SentMessage,
    SentMessages,
    credentials_match,
    load_json,
    squeeze_whitespace,
)
from textstatus.status import Reason, Status


class WunderkindSettings(EnvSettings):
    base_url: str = Field("https://api.wknd.ai", alias="WUNDERKIND_BASE_URL", pattern=r"^https?://")
    client_id: Secret = Field(alias="WUNDERKIND_CLIENT_ID")
    client_secret: Secret = Field(alias="WUNDERKIND_CLIENT_SECRET")
    callback_header_id: str = Field("X-Client-ID", alias="WUNDERKIND_CALLBACK_HEADER_ID", min_length=1)
    callback_header_secret: str = Field("X-Client-Secret", alias="WUNDERKIND_CALLBACK_HEADER_SECRET", min_length=1)
    callback_id: Secret = Field(alias="WUNDERKIND_CALLBACK_ID")
    callback_secret: Secret = Field(alias="WUNDERKIND_CALLBACK_SECRET")


class WunderkindAdapter(ProviderAdapter):
    name = "wunderkind"
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

    def __init__(self, settings: WunderkindSettings, http: HttpSettings) -> None:
        super().__init__(http)
        self._settings = settings
        self._status_url = settings.base_url.rstrip("/") + "/text/message/status"

    @classmethod
    def from_config(cls, http: HttpSettings) -> WunderkindAdapter:
        return cls(config.load(WunderkindSettings), http)

    @classmethod
    def canonical_word(cls, raw: str) -> str:
        return squeeze_whitespace(raw).upper()

    def fetch_status(self, message_id: str, now: datetime) -> Observation | None:
        body = self._get_resource(
            self._status_url,
            params={"messageId": message_id},
            headers={
                "Accept": "application/json",
                "X-Client-ID": self._settings.client_id.reveal(),
                "X-Client-Secret": self._settings.client_secret.reveal(),
            },
        )
        if body is None:
            return None
        if not isinstance(body.get("status"), str) or not body["status"].strip():
            raise ProviderBadResponseError(self.name, "an answer without a status")
        return self.observe(message_id, body["status"].strip(), now)

    def messages_in_send_response(self, payload: Any, now: datetime) -> SentMessages:
        # POST /text/message/send answers {"messageId": "..."}: an id, no status.
        if not isinstance(payload, dict) or not is_valid_message_id(payload.get("messageId")):
            raise InvalidRequestError("a Wunderkind send response has a messageId", target="sendResponse")
        return SentMessages([SentMessage(str(payload["messageId"]))])

    def authenticate_callback(self, request: CallbackRequest) -> None:
        settings = self._settings
        id_ok = credentials_match(request.header(settings.callback_header_id), settings.callback_id.reveal())
        secret_ok = credentials_match(
            request.header(settings.callback_header_secret), settings.callback_secret.reveal()
        )
        if not (id_ok and secret_ok):
            raise CallbackAuthenticationError("missing or invalid callback credentials")

    def parse_callback(self, request: CallbackRequest, received_at: datetime) -> ParsedCallback:
        payload = load_json(request.body, "the callback body")
        if not isinstance(payload, dict):
            raise InvalidCallbackError("the callback body must be a JSON object")
        # The docs spell it `messageID`; the status API spells it `messageId`. Accept both.
        message_id = self.require_message_id(payload.get("messageID", payload.get("messageId")))
        status = self.require_word(payload.get("status"))
        # Wunderkind gives no event time: the time we received it stands in. Phone, email and
        # callbackData are personal or the sender's own data: they are not stored.
        return ParsedCallback([self.observe(message_id, status, received_at)])
