"""The outcomes report: what became of the messages a provider was given in a window.

For the messages of one provider created in [from, to) (at most 31 days), live (TTL not passed):
- the count per status, and per status and reason;
- the delivered share: messages whose status is `delivered` over all the window's messages
  (in-flight ones included; Comapi's `read` is `delivered` already; `partially_delivered` is not);
- the median and 95th percentile time from creation (`createdAt`: when the service first heard of
  the message) to its current final status (`finalAt`: when the report that made it final was
  received), over the final messages, `expired` included; exact, by the nearest-rank method (the
  smallest time that at least p % of them are within: for an even count the median is the lower
  of the two middle times); a message first heard of in its final status counts 0;
- the messages still without a final status: how many, and the oldest 100 (by `createdAt`).

The window is read in slices, several at once, until a deadline: a report is always exact for
[from, coveredTo); `complete` is false when the deadline cut it short of `to` (ask again from
`coveredTo`), and when not even the first slice could be read, ReportTooLargeError.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from textstatus.clock import iso, utcnow
from textstatus.errors import InvalidRequestError, ReportTooLargeError
from textstatus.status import Reason, Status
from textstatus.store import CreatedMessage, MessageStore, Slice
from textstatus.tracking import require_known

MAX_WINDOW = timedelta(days=31)
OLDEST_PENDING = 100
# The window is read in slices of an hour, at most this many (longer windows: longer slices).
SLICE = timedelta(hours=1)
MAX_SLICES = 32
# No new read once less than this is left of the function's time: the answer needs the rest.
READ_MARGIN_MS = 2_500
# ISO 8601 with a four-digit year and an explicit offset (`Z` or ±hh:mm); fractions beyond
# microseconds are cut.
# ASCII digits only (`\d` would take any script's), an offset of real hours and minutes (-14:00
# to +14:00, minutes 00 to 59).
TIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])$"
)


@dataclass(frozen=True)
class ReasonCount:
    status: Status
    reason: Reason | None
    count: int


@dataclass(frozen=True)
class OutcomeReport:
    provider: str
    start: datetime
    end: datetime
    covered_to: datetime
    generated_at: datetime
    messages: int
    statuses: Mapping[Status, int]
    reasons: list[ReasonCount]
    delivered_share: float | None
    timed: int  # the final messages the times are over
    median: timedelta | None
    p95: timedelta | None
    pending: int
    oldest_pending: list[CreatedMessage]

    @property
    def complete(self) -> bool:
        return self.covered_to == self.end


def window(start_text: str, end_text: str) -> tuple[datetime, datetime]:
    """The window [from, to) in UTC; InvalidRequestError (400, target `from` or `to`) when a
    bound is not a time, `to` is not after `from`, or they are more than 31 days apart."""
    start, end = _bound(start_text, "from"), _bound(end_text, "to")
    if end <= start:
        raise InvalidRequestError("`to` must be after `from`", target="to")
    if end - start > MAX_WINDOW:
        raise InvalidRequestError(f"the window is at most {MAX_WINDOW.days} days", target="to")
    return start, end


def _bound(text: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError("no offset")
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidRequestError(f"`{name}` is outside the years 0001 to 9999 in UTC", target=name) from None
    except ValueError:
        raise InvalidRequestError(
            f"`{name}` must be an ISO 8601 time with its offset, e.g. 2026-11-01T00:00:00Z", target=name
        ) from None


def slices(start: datetime, end: datetime) -> list[Slice]:
    """[start, end) cut into hours, or into MAX_SLICES equal parts when that makes fewer."""
    count = min(MAX_SLICES, math.ceil((end - start) / SLICE))
    step = (end - start) / count
    bounds = [start + step * index for index in range(count)] + [end]
    return list(itertools.pairwise(bounds))


def nearest_rank[T](ordered: Sequence[T], percent: int) -> T:
    """The nearest-rank percentile of values already in order: the value at rank ceil(p/100 x n)."""
    rank = -(-percent * len(ordered) // 100)  # ceil, in integers
    return ordered[max(rank, 1) - 1]


class Reports:
    def __init__(self, store: MessageStore, clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._clock = clock

    def outcomes(self, provider: str, start: datetime, end: datetime, remaining_ms: Callable[[], int]) -> OutcomeReport:
        """The report for [start, end), read until `remaining_ms()` (the function's time left)
        falls under READ_MARGIN_MS."""
        require_known(provider)
        parts = slices(start, end)
        read = self._store.created_in(provider, parts, lambda: remaining_ms() > READ_MARGIN_MS)
        covered: list[CreatedMessage] = []
        covered_to = start
        for (_, part_end), messages in zip(parts, read, strict=True):
            if messages is None:
                break
            covered += messages
            covered_to = part_end
        if covered_to == start:
            raise ReportTooLargeError(
                f"not even the window's first part (to {iso(parts[0][1])}) could be read in time; "
                "ask for a shorter window"
            )
        return summarize(provider, start, end, covered_to, self._clock(), covered)


def summarize(
    provider: str,
    start: datetime,
    end: datetime,
    covered_to: datetime,
    now: datetime,
    messages: Sequence[CreatedMessage],
) -> OutcomeReport:
    statuses = Counter(message.status for message in messages)
    reasons = Counter((message.status, message.reason) for message in messages)
    order = list(Status)
    durations = sorted(
        max(message.final_at - message.created_at, timedelta(0))
        for message in messages
        if message.status.final and message.final_at is not None
    )
    pending = [message for message in messages if not message.status.final]
    return OutcomeReport(
        provider=provider,
        start=start,
        end=end,
        covered_to=covered_to,
        generated_at=now,
        messages=len(messages),
        statuses={status: statuses[status] for status in order},
        reasons=[
            ReasonCount(status, reason, count)
            for (status, reason), count in sorted(
                reasons.items(), key=lambda row: (order.index(row[0][0]), row[0][1] or "")
            )
        ],
        delivered_share=statuses[Status.DELIVERED] / len(messages) if messages else None,
        timed=len(durations),
        median=nearest_rank(durations, 50) if durations else None,
        p95=nearest_rank(durations, 95) if durations else None,
        pending=len(pending),
        oldest_pending=heapq.nsmallest(OLDEST_PENDING, pending, key=lambda m: (m.created_at, m.message_id)),
    )
