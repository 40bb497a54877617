"""The outcomes report on moto: exact counts, shares, percentiles and in-flight messages over a
window, read from `created-index` and the status items (never a scan), on a fake clock."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.support.aws import expire_status
from tests.support.payloads import observed
from tests.support.rig import FakeClock
from textstatus import config, runtime
from textstatus.errors import ReportTooLargeError, UnknownProviderError
from textstatus.events import Source
from textstatus.providers import registry
from textstatus.reports import OLDEST_PENDING, Reports, slices
from textstatus.status import Reason, Status
from textstatus.store import MessageStore
from textstatus.store import reports as store_reports
from textstatus.store.encoding import message_key
from textstatus.tracking import Tracker

FROM = datetime(2026, 11, 2, tzinfo=UTC)
TO = datetime(2026, 11, 4, tzinfo=UTC)
FOREVER: Callable[[], int] = lambda: 60_000  # noqa: E731 - the function's time left, in ms


@dataclass
class World:
    clock: FakeClock
    store: MessageStore
    tracker: Tracker
    reports: Reports

    def at(self, moment: datetime) -> None:
        self.clock.now = moment

    def register(self, message_id: str, at: datetime, provider: str = "wunderkind") -> None:
        self.at(at)
        self.tracker.register(provider, message_id)

    def report(self, word: str, message_id: str, at: datetime, provider: str = "wunderkind") -> None:
        """The provider's `word` for the message, received (and reported as happening) at `at`."""
        self.at(at)
        self.tracker.ingest(observed(provider, message_id, word, at), Source.CALLBACK)

    def outcomes(self, provider: str = "wunderkind", remaining: Callable[[], int] = FOREVER) -> Any:
        self.at(TO + timedelta(days=1))
        return self.reports.outcomes(provider, FROM, TO, remaining)


@pytest.fixture
def world(aws: None) -> World:
    clock = FakeClock()
    settings = config.settings()
    store = MessageStore(runtime.dynamodb(), settings.table_name, timedelta(days=settings.retention_days), clock)
    return World(clock, store, Tracker(store, registry.adapter, settings, clock), Reports(store, clock))


def later(start: datetime, seconds: float) -> datetime:
    return start + timedelta(seconds=seconds)


def test_a_window_of_delivered_failed_and_in_flight_messages_is_counted_exactly(world: World) -> None:
    t = FROM + timedelta(hours=5)
    # In the window: each registered, then its outcome `seconds` later.
    outcomes = [
        ("d-10", "DELIVERED", 10),
        ("d-30", "DELIVERED", 30),
        ("d-45", "DELIVERED", 45.5),
        ("f-5", "FAILED_TO_SEND", 5),
        ("u-60", "FAILED_TO_DELIVERY", 60),
        ("r-20", "NOT_SUBSCRIBED", 20),
        ("r-90", "NOT_FOUND", 90),
    ]
    for n, (message_id, word, seconds) in enumerate(outcomes):
        created = later(t, n)
        world.register(message_id, created)
        world.report("SENDING", message_id, later(created, 1))
        world.report(word, message_id, later(created, seconds))
    # Delivered again later (a duplicate report of the same status): its time to final stays 30 s.
    world.report("DELIVERED", "d-30", later(t, 1 + 500))
    # Expired at our deadline, then a late real outcome: its time is the delivered one's, 120 s.
    world.register("late", later(t, 20))
    world.at(later(t, 20 + 100))
    world.tracker.expire("wunderkind", "late", later(t, 20 + 100))
    world.report("DELIVERED", "late", later(t, 20 + 120))
    # First heard of in its final status (a callback before any registration): 0 s.
    world.report("DELIVERED", "callback-first", later(t, 30))
    # In flight: one sending, one only registered, at the window's very first microsecond.
    world.register("sending", later(t, 40))
    world.report("SENDING", "sending", later(t, 41))
    world.register("at-from", FROM)
    # Outside: just before `from`, at `to` (excluded), another provider, an item whose TTL passed.
    world.register("before", FROM - timedelta(microseconds=1))
    world.register("at-to", TO)
    world.register("comapi-1", later(t, 3), provider="comapi")
    world.register("expired-ttl", later(t, 50))
    world.report("DELIVERED", "expired-ttl", later(t, 55))
    expire_status("wunderkind", "expired-ttl")

    report = world.outcomes()

    assert (report.start, report.end, report.covered_to, report.complete) == (FROM, TO, TO, True)
    assert report.messages == 11
    assert {status: n for status, n in report.statuses.items() if n} == {
        Status.ACCEPTED: 1,
        Status.SENDING: 1,
        Status.FAILED: 1,
        Status.UNDELIVERED: 1,
        Status.REJECTED: 2,
        Status.DELIVERED: 5,
    }
    assert list(report.statuses) == list(Status)  # every status, in the vocabulary's order
    assert [(row.status, row.reason, row.count) for row in report.reasons] == [
        (Status.ACCEPTED, None, 1),
        (Status.SENDING, None, 1),
        (Status.FAILED, Reason.PROVIDER_ERROR, 1),
        (Status.UNDELIVERED, Reason.CARRIER_ERROR, 1),
        (Status.REJECTED, Reason.NO_SUBSCRIPTION, 1),
        (Status.REJECTED, Reason.NOT_SUBSCRIBED, 1),
        (Status.DELIVERED, None, 5),
    ]
    assert report.delivered_share == 5 / 11
    # The nine final messages' times, in order: 0, 5, 10, 20, 30, 45.5, 60, 90, 120 s. Nearest
    # rank: the median is the 5th (ceil(0.5 x 9)), the 95th percentile the 9th (ceil(0.95 x 9)).
    assert report.timed == 9
    assert report.median == timedelta(seconds=30)
    assert report.p95 == timedelta(seconds=120)
    assert report.pending == 2
    assert [(m.message_id, m.status, m.created_at) for m in report.oldest_pending] == [
        ("at-from", Status.ACCEPTED, FROM),
        ("sending", Status.SENDING, later(t, 40)),
    ]


def test_percentiles_over_twenty_messages_are_the_10th_and_19th(world: World) -> None:
    t = FROM + timedelta(hours=1)
    for n in range(20):
        world.register(f"m-{n:02d}", later(t, n))
    for n in reversed(range(20)):  # the outcome order does not matter
        world.report("DELIVERED", f"m-{n:02d}", later(t, n + (n + 1) * 1.25))
    report = world.outcomes()
    assert (report.timed, report.median, report.p95) == (20, timedelta(seconds=12.5), timedelta(seconds=23.75))
    assert report.delivered_share == 1.0


def test_an_empty_window_and_an_unknown_provider(world: World) -> None:
    report = world.outcomes()
    assert (report.messages, report.delivered_share, report.timed) == (0, None, 0)
    assert (report.median, report.p95) == (None, None)
    assert (report.pending, report.oldest_pending, report.reasons) == (0, [], [])
    assert set(report.statuses.values()) == {0}
    with pytest.raises(UnknownProviderError):
        world.outcomes(provider="acme")


def test_only_the_oldest_hundred_in_flight_messages_are_listed_but_all_are_counted(world: World) -> None:
    t = FROM + timedelta(hours=3)
    for n in range(130):
        world.register(f"p-{n:03d}", later(t, (n * 7) % 130))  # created out of id order
    report = world.outcomes()
    assert (report.messages, report.pending) == (130, 130)
    listed = [m.message_id for m in report.oldest_pending]
    assert len(listed) == OLDEST_PENDING
    expected = sorted((f"p-{n:03d}" for n in range(130)), key=lambda i: (int(i[2:]) * 7) % 130)
    assert listed == expected[:OLDEST_PENDING]


def test_a_batch_registration_is_counted_and_read_a_hundred_keys_at_a_time(world: World) -> None:
    world.at(FROM + timedelta(hours=2))
    ids = [f"c-{n:03d}" for n in range(250)]
    world.tracker.register_send_response("comapi", [{"index": n, "messageId": i} for n, i in enumerate(ids)])
    report = world.outcomes(provider="comapi")
    assert (report.messages, report.pending, report.statuses[Status.ACCEPTED]) == (250, 250, 250)


def test_a_message_final_before_final_times_were_kept_is_counted_but_not_timed(world: World) -> None:
    world.register("old", FROM + timedelta(hours=1))
    world.report("DELIVERED", "old", FROM + timedelta(hours=1, seconds=9))
    boto3.client("dynamodb").update_item(
        TableName=os.environ["TABLE_NAME"], Key=message_key("wunderkind", "old"), UpdateExpression="REMOVE finalAt"
    )
    report = world.outcomes()
    assert (report.messages, report.statuses[Status.DELIVERED], report.timed, report.median) == (1, 1, 0, None)


# The deadline ----------------------------------------------------------------------------------


def test_a_report_cut_short_by_the_deadline_is_exact_for_the_part_it_covers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = slices(FROM, TO)
    assert len(parts) == 32  # 48 hours: 32 slices of 1.5 hours
    world.register("first-part", FROM + timedelta(minutes=10))
    world.register("last-part", TO - timedelta(minutes=10))
    monkeypatch.setattr(store_reports, "REPORT_WORKERS", 1)  # one slice after the other, earliest first
    requests = iter([10_000, 10_000] + [0] * 1000)  # time for the first slice's query and batch get only
    report = world.outcomes(remaining=lambda: next(requests))
    assert (report.complete, report.covered_to, report.end) == (False, parts[0][1], TO)
    assert [m.message_id for m in report.oldest_pending] == ["first-part"]


def test_a_report_that_cannot_read_even_its_first_part_is_refused(world: World) -> None:
    with pytest.raises(ReportTooLargeError):
        world.outcomes(remaining=lambda: 1_000)


def test_unprocessed_keys_are_asked_again(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(6):
        world.register(f"m-{n}", FROM + timedelta(minutes=n))
    client: Any = world.store._client
    original = client.batch_get_item
    calls: list[int] = []

    def half_unprocessed(**request: Any) -> Any:
        ((table, ask),) = request["RequestItems"].items()
        calls.append(len(ask["Keys"]))
        if len(calls) > 1:
            return original(**request)
        done, left = ask["Keys"][:3], ask["Keys"][3:]
        answer = original(RequestItems={table: {**ask, "Keys": done}})
        answer["UnprocessedKeys"] = {table: {**ask, "Keys": left}}
        return answer

    monkeypatch.setattr(client, "batch_get_item", half_unprocessed)
    report = world.outcomes()
    assert report.messages == 6
    assert calls == [6, 3]


def test_slices_cover_the_window_without_gaps_or_overlaps() -> None:
    for start, end in [
        (FROM, FROM + timedelta(microseconds=1)),
        (FROM, FROM + timedelta(hours=1)),
        (FROM, FROM + timedelta(hours=1, microseconds=1)),
        (FROM, FROM + timedelta(days=31)),
        (FROM + timedelta(seconds=7.5), FROM + timedelta(days=3, seconds=1)),
    ]:
        parts = slices(start, end)
        assert parts[0][0] == start
        assert parts[-1][1] == end
        assert all(a_end == b_start for (_, a_end), (b_start, _) in itertools.pairwise(parts))
        assert all(part_start < part_end for part_start, part_end in parts)
        assert len(parts) <= 32
