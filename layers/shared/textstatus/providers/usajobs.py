"""USAJOBS Text Messaging API: poll only (no callbacks), status by POST with an API key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from textstatus.config import ProviderSettings, Secret
from textstatus.errors import ProviderRejectedRequestError
from textstatus.events import Observation
from textstatus.providers.base import Outcome, ProviderAdapter, SentMessage, SentMessages
from textstatus.providers.payloads import Count, MessageId, OptionalString, Payload, Text, parse_json
from textstatus.status import Reason, Status

if TYPE_CHECKING:
    import requests


# `deliveryStatusDetails` is "<code>: <text>"; codes refine a `Failed` (more will be added).
FAILURE_CODES: Mapping[int, Outcome] = {
    4003: Outcome(Status.UNDELIVERED, Reason.INVALID_DESTINATION),
    4007: Outcome(Status.REJECTED, Reason.OPTED_OUT),
}
# A code is the leading number, at most 9 digits: longer digit runs are not a code (and `int()`
# refuses more than 4300 digits), so they are kept as text, never parsed.
# The code: ASCII digits (not any script's), then a colon or the end (`4007.5` is not a code).
_DETAIL = re.compile(r"^\s*([0-9]{1,9})(?=\s*(?::|$))")
# An error code is a short word; anything else in its place is not one we can match.
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def detail_code(detail: str | None) -> int | None:
    match = _DETAIL.match(detail or "")
    return int(match.group(1)) if match else None


class UsajobsStatus(Payload):
    """POST /api/textmessaging/status answers the delivery status, its detail and segment counts
    (counts that are not counts, negative, huge, floats, strings or bools, are dropped)."""

    described: ClassVar[str] = "a USAJOBS status answer"
    delivery_status: Text = Field(alias="deliveryStatus")
    details: OptionalString = Field(None, alias="deliveryStatusDetails")
    successful: Count = Field(None, alias="successfulSegments")
    failed: Count = Field(None, alias="failedSegments")
    response_id: Any = Field(None, alias="responseId")

    def names(self) -> tuple[object, ...]:
        return (self.response_id,)


class UsajobsSent(Payload):
    """POST /api/textmessaging/sendmessage answers {"responseId": "<guid>"}: an id, no status."""

    described: ClassVar[str] = "a USAJOBS send response"
    response_id: MessageId = Field(alias="responseId")


def _code(value: object) -> str | None:
    return value if isinstance(value, str) and _ERROR_CODE.fullmatch(value) else None


class UsajobsErrorItem(Payload):
    code: Annotated[str | None, BeforeValidator(_code)] = None


class UsajobsErrorBody(UsajobsErrorItem):
    details: Annotated[
        list[UsajobsErrorItem],
        BeforeValidator(lambda v: [i for i in v if isinstance(i, dict)] if isinstance(v, list) else []),
    ] = Field(default_factory=list)


class UsajobsError(Payload):
    """USAJOBS's error shape, {"error": {"code", "details": [{"code"}]}}."""

    error: UsajobsErrorBody


class UsajobsSettings(ProviderSettings, env_prefix="USAJOBS_"):
    base_url: str = Field("https://data.usajobs.gov", pattern=r"^https?://")
    api_key: Secret
    # USAJOBS documents no pending state: "not found" for a fresh message means "no receipt yet".
    not_found_grace_minutes: float = Field(60, gt=0, le=60 * 24 * 30)


class UsajobsAdapter(ProviderAdapter):
    name = "usajobs"
    settings_model = UsajobsSettings
    settings: UsajobsSettings
    callback_methods = frozenset()
    statuses: ClassVar[Mapping[str, Outcome]] = {
        "Delivered": Outcome(Status.DELIVERED),
        # A failure whose code we do not know: undelivered, reason unknown, the code kept in the detail.
        "Failed": Outcome(Status.UNDELIVERED, Reason.UNKNOWN),
    }

    @property
    def not_found_grace(self) -> timedelta:
        return timedelta(minutes=self.settings.not_found_grace_minutes)

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
        answer = self.fetch_answer(
            UsajobsStatus,
            "POST",
            f"{self.base_url}/api/textmessaging/status",
            about=message_id,
            missing=self._not_found,
            json={"responseId": message_id},
            headers={"Accept": "application/json", "X-Api-Key": self.settings.api_key.reveal()},
        )
        if answer is None:
            return None
        found = {"successful": answer.successful, "failed": answer.failed}
        segments = {name: value for name, value in found.items() if value is not None}
        return self.observe(
            message_id,
            answer.delivery_status,
            now,
            detail=answer.details,
            outcome=self.outcome_of(answer.delivery_status, answer.details),
            segments=segments or None,
        )

    def _not_found(self, response: requests.Response) -> bool:
        """A 404 means the message is unknown whatever its body says; a 400 only when its codes
        say TextMessageNotFound (otherwise our request was refused)."""
        if response.status_code == 404:
            return True
        codes = _error_codes(response.content)
        if "TextMessageNotFound" in codes:
            return True
        named = ", ".join(sorted(codes)[:5]) or "HTTP 400"
        raise ProviderRejectedRequestError(self.name, f"request refused: {named}")

    def messages_in_send_response(self, payload: Any, now: datetime) -> SentMessages:
        sent = self.read_send_response(UsajobsSent, payload)
        return SentMessages([SentMessage(sent.response_id)])


def _error_codes(raw: bytes) -> set[str]:
    """The codes of USAJOBS's error shape; none when the body is not that shape (or not JSON)."""
    try:
        body = UsajobsError.model_validate(parse_json(raw))
    except ValueError:  # not JSON, or not the error shape (ValidationError is a ValueError)
        return set()
    return {item.code for item in [body.error, *body.error.details] if item.code}
