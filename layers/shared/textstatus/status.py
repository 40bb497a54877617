"""The normalized status vocabulary, its ranks, and the ordering rule every write obeys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from textstatus.clock import iso


class Status(StrEnum):
    ACCEPTED = "accepted"
    SENDING = "sending"
    SENT = "sent"
    EXPIRED = "expired"
    FAILED = "failed"
    UNDELIVERED = "undelivered"
    REJECTED = "rejected"
    CANCELED = "canceled"
    PARTIALLY_DELIVERED = "partially_delivered"
    DELIVERED = "delivered"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @property
    def final(self) -> bool:
        # `expired` is final but soft: its rank is below every real outcome, so a
        # late real final status still replaces it through the ordering rule.
        return self.rank >= Status.EXPIRED.rank


_RANKS: dict[Status, int] = {
    Status.ACCEPTED: 10,
    Status.SENDING: 20,
    Status.SENT: 30,
    Status.EXPIRED: 40,
    Status.FAILED: 60,
    Status.UNDELIVERED: 60,
    Status.REJECTED: 60,
    Status.CANCELED: 60,
    Status.PARTIALLY_DELIVERED: 65,
    Status.DELIVERED: 70,
}


class Reason(StrEnum):
    OPTED_OUT = "opted_out"
    NOT_SUBSCRIBED = "not_subscribed"
    NO_SUBSCRIPTION = "no_subscription"
    NO_MATCH = "no_match"
    BLACKLISTED = "blacklisted"
    INVALID_DESTINATION = "invalid_destination"
    PROVIDER_ERROR = "provider_error"
    CARRIER_ERROR = "carrier_error"
    INCONCLUSIVE = "inconclusive"
    EXPIRED_AT_PROVIDER = "expired_at_provider"
    TIMEOUT = "timeout"
    UNKNOWN = "unknown"


def order_key(status: Status, event_at: datetime, tiebreak: str = "") -> str:
    """The ordering rule as one string: the current status is the event with the greatest key.

    (rank, provider event time, status name) compare the same way as this string because the
    rank is zero-padded and times are always rendered in one fixed-width UTC format. Storing
    it lets DynamoDB enforce the rule in a condition expression (`orderKey < :new`), so no
    read-then-write race can move a status backwards.

    `tiebreak` (the provider's word and the event's id) orders two events that agree on all
    three, e.g. Comapi's `delivered` and `read` in the same millisecond: without it the first
    to arrive would win, and the result would depend on arrival order.
    """
    return f"{status.rank:03d}#{iso(event_at)}#{status.value}#{tiebreak}"
