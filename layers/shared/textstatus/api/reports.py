"""The outcomes report as the API answers it, and what its route can answer."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from pydantic import Field

from textstatus.api.models import _CamelModel
from textstatus.api.openapi import STATUS_ROUTE_RESPONSES, error_answer
from textstatus.clock import iso

if TYPE_CHECKING:
    from textstatus.reports import OutcomeReport


class ReasonCount(_CamelModel):
    status: str = Field(examples=["failed"])
    reason: str | None = Field(examples=["provider_error"])
    count: int


class PendingMessage(_CamelModel):
    message_id: str = Field(examples=["f9eea82a-ce63-4dfa-ae8e-09b891f446cc"])
    status: str = Field(examples=["sending"])
    created_at: str


class TimeToFinal(_CamelModel):
    """From creation (when the service first heard of the message) to its current final status
    (when the report that made it final was received), over the final messages, `expired`
    included; nearest-rank percentiles, so the median of an even count is the lower middle."""

    messages: int = Field(description="The final messages the times are over.")
    median_seconds: float | None = Field(description="Null when no message is final.")
    p95_seconds: float | None = Field(description="Null when no message is final.")


class OutcomesReport(_CamelModel):
    """What became of the messages of one provider created in [from, coveredTo)."""

    provider: str = Field(examples=["wunderkind"])
    from_: str = Field(alias="from", examples=["2026-11-01T00:00:00.000000Z"])
    to: str = Field(examples=["2026-11-08T00:00:00.000000Z"])
    covered_to: str = Field(
        description="The report is exact for the messages created before this time; `to` unless "
        "the window held more than one request could read in time (then ask again from here)."
    )
    complete: bool = Field(description="True when `coveredTo` is `to`.")
    generated_at: str
    messages: int = Field(description="The messages created in the window (whose TTL has not passed).")
    statuses: dict[str, int] = Field(description="Messages per current status; every status, zeros included.")
    reasons: list[ReasonCount] = Field(description="Messages per status and reason (null: none given).")
    delivered_share: float | None = Field(
        description="Messages `delivered` (Comapi's `read` included) over all the window's messages, in-flight "
        "ones included; `partially_delivered` is not delivered. Null for an empty window."
    )
    time_to_final: TimeToFinal
    pending: int = Field(description="The messages still without a final status.")
    oldest_pending: list[PendingMessage] = Field(description="The oldest 100 of them, oldest first.")


def _seconds(value: timedelta | None) -> float | None:
    return value / timedelta(seconds=1) if value is not None else None


def outcomes_report(report: OutcomeReport) -> OutcomesReport:
    """The one mapping from a report to the API's resource."""
    # `from` is a Python keyword: the field is `from_`, given here by its alias.
    return OutcomesReport.model_validate(
        {
            "from": iso(report.start),
            "to": iso(report.end),
            "provider": report.provider,
            "coveredTo": iso(report.covered_to),
            "complete": report.complete,
            "generatedAt": iso(report.generated_at),
            "messages": report.messages,
            "statuses": {status.value: count for status, count in report.statuses.items()},
            "reasons": [
                ReasonCount(status=row.status.value, reason=row.reason.value if row.reason else None, count=row.count)
                for row in report.reasons
            ],
            "deliveredShare": report.delivered_share,
            "timeToFinal": TimeToFinal(
                messages=report.timed, median_seconds=_seconds(report.median), p95_seconds=_seconds(report.p95)
            ),
            "pending": report.pending,
            "oldestPending": [
                PendingMessage(message_id=m.message_id, status=m.status.value, created_at=iso(m.created_at))
                for m in report.oldest_pending
            ],
        }
    )


REPORT_ROUTE_RESPONSES: dict[int, Any] = {
    **STATUS_ROUTE_RESPONSES,
    HTTPStatus.BAD_REQUEST: error_answer(
        "Bad Request (`BadRequest`): an unknown query parameter (target `query`); `from` or `to` not a time "
        "(an impossible date), `to` not after `from`, or a window over 31 days (target `from` or `to`)"
    ),
    HTTPStatus.SERVICE_UNAVAILABLE: error_answer(
        "Service Unavailable: storage is unavailable (`ServiceUnavailable`), or not even the window's first part "
        "could be read in time (`ReportTooLarge`: ask for a shorter window); retry after `Retry-After` seconds"
    ),
}
