"""The normalized vocabulary and the ordering rule (docs/architecture.md#the-ordering-rule),
as pure values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from textstatus.clock import iso, parse_iso
from textstatus.status import Status, order_key

T0 = datetime(2026, 11, 22, 10, 0, 3, tzinfo=UTC)

RANKS = {
    "accepted": 10,
    "sending": 20,
    "sent": 30,
    "expired": 40,
    "failed": 60,
    "undelivered": 60,
    "rejected": 60,
    "canceled": 60,
    "partially_delivered": 65,
    "delivered": 70,
}


@pytest.mark.parametrize(("name", "rank"), RANKS.items())
def test_every_status_has_the_documented_rank(name: str, rank: int) -> None:
    assert Status(name).rank == rank


@pytest.mark.parametrize("name", RANKS)
def test_final_statuses_are_expired_and_everything_above(name: str) -> None:
    assert Status(name).final is (name not in {"accepted", "sending", "sent"})


def test_a_higher_rank_wins_whatever_the_times() -> None:
    late_sent = order_key(Status.SENT, T0 + timedelta(days=3))
    early_delivered = order_key(Status.DELIVERED, T0)
    assert early_delivered > late_sent


def test_a_late_real_outcome_replaces_expired() -> None:
    expired = order_key(Status.EXPIRED, T0 + timedelta(hours=80))
    assert order_key(Status.UNDELIVERED, T0) > expired
    assert order_key(Status.DELIVERED, T0) > expired


def test_within_a_rank_the_later_provider_time_wins() -> None:
    assert order_key(Status.FAILED, T0 + timedelta(microseconds=1)) > order_key(Status.UNDELIVERED, T0)


def test_same_rank_and_time_is_decided_by_status_name() -> None:
    keys = sorted(order_key(status, T0) for status in (Status.UNDELIVERED, Status.CANCELED, Status.REJECTED))
    assert [key.split("#")[2] for key in keys] == ["canceled", "rejected", "undelivered"]


def test_a_tie_on_rank_time_and_status_is_broken_by_the_provider_word() -> None:
    # Comapi's `delivered` and `read` both mean delivered: the order must not depend on arrival.
    assert order_key(Status.DELIVERED, T0, "read#e2") > order_key(Status.DELIVERED, T0, "delivered#e1")


def test_order_keys_compare_like_the_rule_across_time_zones_and_precision() -> None:
    plus_two = datetime(2026, 11, 22, 12, 0, 3, 500, tzinfo=UTC).astimezone()
    assert order_key(Status.SENT, plus_two) > order_key(Status.SENT, T0)
    assert order_key(Status.SENT, parse_iso("2026-11-22T10:00:03Z")) == order_key(Status.SENT, T0)


def test_iso_round_trips_and_sorts_as_text() -> None:
    times = [T0 + timedelta(microseconds=n * 999_999) for n in range(50)]
    rendered = [iso(moment) for moment in times]
    assert rendered == sorted(rendered)
    assert [parse_iso(text) for text in rendered] == times
