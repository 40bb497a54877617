"""USAJOBS Text Messaging API: poll only (no callbacks), status by POST with an API key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from textstatus import config
from textstatus.config import EnvSettings, Secret
from textstatus.errors import InvalidRequestError, ProviderBadResponseError, ProviderRejectedRequestError
from textstatus.events import Observation, is_valid_message_id
from textstatus.providers.base import HttpSettings, Outcome, ProviderAdapter, SentMessage
from textstatus.status import Reason, Status


class UsajobsSettings(EnvSettings):
    base_url: str = Field("https://data.usajobs.gov", alias="USAJOBS_BASE_URL", pattern=r"^https?://")
    api_key: Secret = Field(alias="USAJOBS_API_KEY")
    # USAJOBS documents no pending state: "not found" for a fresh message means "no receipt yet".
    not_found_grace_minutes: float = Field(60, alias="USAJOBS_NOT_FOUND_GRACE_MINUTES", gt=0, le=60 * 24 * 30)


# `deliveryStatusDetails` is "<code>: <text>"; codes refine a `Failed` (more will be added).
FAILURE_CODES: Mapping[int, Outcome] = {
    4003: Outcome(Status.UNDELIVERED, Reason.INVALID_DESTINATION),
    4007: Outcome(Status.REJECTED, Reason.OPTED_OUT),
}
_DETAIL = re.compile(r"^\s*(\d+)\s*:?\s*(.*)$", re.DOTALL)


def detail_code(detail: str | None) -> int | None:
    match = _DETAIL.match(detail or "")
    return int(match.group(1)) if match else None


class UsajobsAdapter(ProviderAdapter):
    name = "usajobs"
    callback_methods = frozenset()
    statuses: ClassVar[Mapping[str, Outcome]] = {
        "Delivered": Outcome(Status.DELIVERED),
        # A failure whose code we do not know: undelivered, reason unknown, the code kept in the detail.
        "Failed": Outcome(Status.UNDELIVERED, Reason.UNKNOWN),
    }

    def __init__(self, settings: UsajobsSettings, http: HttpSettings) -> None:
        super().__init__(http)
        self._settings = settings
        self._status_url = settings.base_url.rstrip("/") + "/api/textmessaging/status"

    @classmethod
    def from_config(cls, http: HttpSettings) -> UsajobsAdapter:
        return cls(config.load(UsajobsSettings), http)

    @property
    def not_found_grace(self) -> timedelta:
        return timedelta(minutes=self._settings.not_found_grace_minutes)

    @classmethod
    def outcome_of(cls, word: str, detail: str | None) -> Outcome:
        """The mapping: the status word, refined by the detail's code for a failure."""
        outcome = cls.outcome(word)
        if outcome.status is Status.UNDELIVERED:
            code = detail_code(detail)
            if code is not None and code in FAILURE_CODES:
                return FAILURE_CODES[code]
        return outcome

    def fetch_status(self, message_id: str, now: datetime) -> Observation | None:
        response = self._send(
            "POST",
            self._status_url,
            json={"responseId": message_id},
            headers={"Accept": "application/json", "X-Api-Key": self._settings.api_key.reveal()},
        )
        body = self._json_object(response)
        if response.status_code == 400:
            codes = _error_codes(body)
            if "TextMessageNotFound" in codes:
                return None
            raise ProviderRejectedRequestError(self.name, f"request refused: {', '.join(sorted(codes)) or 'HTTP 400'}")
        if response.status_code == 404:
            return None
        word = body.get("deliveryStatus")
        if response.status_code != 200 or not isinstance(word, str) or not word.strip():
            raise ProviderBadResponseError(self.name, f"HTTP {response.status_code} without a deliveryStatus")
        detail = body.get("deliveryStatusDetails") if isinstance(body.get("deliveryStatusDetails"), str) else None
        segments = {
            name: int(body[key])
            for name, key in (("successful", "successfulSegments"), ("failed", "failedSegments"))
            if isinstance(body.get(key), int) and not isinstance(body.get(key), bool)
        }
        return self.observe(
            message_id,
            word.strip(),
            now,
            detail=detail,
            outcome=self.outcome_of(word.strip(), detail),
            segments=segments or None,
        )

    def messages_in_send_response(self, payload: Any, now: datetime) -> list[SentMessage]:
        # POST /api/textmessaging/sendmessage answers {"responseId": "<guid>"}.
        if not isinstance(payload, dict) or not is_valid_message_id(payload.get("responseId")):
            raise InvalidRequestError("a USAJOBS send response has a responseId", target="sendResponse")
        return [SentMessage(str(payload["responseId"]))]


def _error_codes(body: dict[str, Any]) -> set[str]:
    """The codes of USAJOBS's error shape: {"error": {"code", "details": [{"code"}]}}."""
    error = body.get("error")
    if not isinstance(error, dict):
        return set()
    codes = {str(error["code"])} if error.get("code") else set()
    details = error.get("details")
    if isinstance(details, list):
        codes |= {str(item["code"]) for item in details if isinstance(item, dict) and item.get("code")}
    return codes
