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
from textstatus.providers.base import (
    HttpSettings,
    Outcome,
    ProviderAdapter,
    SentMessage,
    SentMessages,
    bounded_count,
    parse_json,
)
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
# A code is the leading number, at most 9 digits: longer digit runs are not a code (and `int()`
# refuses more than 4300 digits), so they are kept as text, never parsed.
_DETAIL = re.compile(r"^\s*(\d{1,9})(?!\d)")


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
        # The status code first: an error page (a gateway's HTML 404, a plain-text 400) need not
        # be JSON, and a 404 means the message is unknown whatever its body says.
        if response.status_code == 404:
            return None
        if response.status_code == 400:
            codes = _error_codes(response.content)
            if "TextMessageNotFound" in codes:
                return None
            named = ", ".join(sorted(codes)[:5]) or "HTTP 400"
            raise ProviderRejectedRequestError(self.name, f"request refused: {named}")
        if response.status_code != 200:
            raise ProviderBadResponseError(self.name, f"HTTP {response.status_code}")
        body = self._json_object(response)
        word = body.get("deliveryStatus")
        if not isinstance(word, str) or not word.strip():
            raise ProviderBadResponseError(self.name, "HTTP 200 without a deliveryStatus")
        detail = body.get("deliveryStatusDetails") if isinstance(body.get("deliveryStatusDetails"), str) else None
        # Segment counts that are not counts (negative, huge, floats, strings, bools) are dropped.
        found = {
            name: bounded_count(body.get(key))
            for name, key in (("successful", "successfulSegments"), ("failed", "failedSegments"))
        }
        segments = {name: value for name, value in found.items() if value is not None}
        return self.observe(
            message_id,
            word.strip(),
            now,
            detail=detail,
            outcome=self.outcome_of(word.strip(), detail),
            segments=segments or None,
        )

    def messages_in_send_response(self, payload: Any, now: datetime) -> SentMessages:
        # POST /api/textmessaging/sendmessage answers {"responseId": "<guid>"}: an id, no status.
        if not isinstance(payload, dict) or not is_valid_message_id(payload.get("responseId")):
            raise InvalidRequestError("a USAJOBS send response has a responseId", target="sendResponse")
        return SentMessages([SentMessage(str(payload["responseId"]))])


# An error code is a short word; anything else in its place is not one we can match.
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _error_codes(raw: bytes) -> set[str]:
    """The codes of USAJOBS's error shape, {"error": {"code", "details": [{"code"}]}}; none when
    the body is not that shape (or not JSON at all)."""
    try:
        body = parse_json(raw)
    except ValueError:
        return set()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return set()
    items = [error]
    details = error.get("details")
    if isinstance(details, list):
        items += [item for item in details if isinstance(item, dict)]
    return {item["code"] for item in items if isinstance(item.get("code"), str) and _ERROR_CODE.fullmatch(item["code"])}
