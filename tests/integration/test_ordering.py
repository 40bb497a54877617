"""The ordering rule enforced by DynamoDB: any arrival order, any duplicates, the same result."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.payloads import observed as provider_observation
from textstatus import runtime
from textstatus.events import Observation, Source
from textstatus.status import Status

T0 = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
MESSAGE_ID = "540e8400-e29b-41d4-a716-446655440000"


def observed(word: str, seconds: float, message_id: str = MESSAGE_ID) -> Observation:
    return provider_observation("wunderkind", message_id, word, T0 + timedelta(seconds=seconds))


# A message's real life, plus a second final outcome and an unknown word.
EVENTS = [
    observed("PENDING_TO_SEND", 0),
    observed("SENDING", 1),
    observed("DELIVERED", 3),
    observed("FAILED_TO_DELIVERY", 2),
    observed("QUEUED_AT_CARRIER", 4),
]


def expected_current(events: list[Observation]) -> Observation:
    known = [e for e in events if e.status is not None]
    return max(known, key=lambda e: e.order_key or "")


@pytest.mark.usefixtures("aws")
def test_every_arrival_order_of_a_messages_events_ends_in_the_greatest() -> None:
    tracker = runtime.tracker()
    store = runtime.store()
    want = expected_current(EVENTS)
    for number, order in enumerate(itertools.permutations(EVENTS)):
        message_id = f"perm-{number}"
        changes = 0
        for event in order:
            changes += tracker.ingest(
                observed(event.provider_status or "", (event.event_at - T0).total_seconds(), message_id),
                Source.CALLBACK,
            ).changed
        record = store.get("wunderkind", message_id)
        assert record is not None
        assert (record.status, record.provider_status) == (want.status, want.provider_status), order
        assert record.version == changes
        assert len(store.history("wunderkind", message_id)[0]) == len(EVENTS)


@pytest.mark.usefixtures("aws")
def test_duplicates_in_any_position_change_nothing() -> None:
    tracker = runtime.tracker()
    store = runtime.store()
    sequence = [EVENTS[2], EVENTS[2], EVENTS[0], EVENTS[2], EVENTS[1], EVENTS[0]]
    outcomes = [tracker.ingest(event, Source.CALLBACK) for event in sequence]
    assert [o.duplicate for o in outcomes] == [False, True, False, True, False, True]
    record = store.get("wunderkind", MESSAGE_ID)
    assert record is not None
    assert (record.status, record.version) == (Status.DELIVERED, 1)
    assert len(store.history("wunderkind", MESSAGE_ID)[0]) == 3


@pytest.mark.usefixtures("aws")
def test_a_late_real_outcome_replaces_expired_but_a_late_sending_does_not() -> None:
    tracker = runtime.tracker()
    tracker.ingest(EVENTS[1], Source.POLL)
    tracker.expire("wunderkind", MESSAGE_ID, T0 + timedelta(hours=72))
    record = runtime.store().get("wunderkind", MESSAGE_ID)
    assert record is not None
    assert (record.status, record.reason) == ("expired", "timeout")
    assert not tracker.ingest(observed("SENDING", 5), Source.CALLBACK).changed
    assert tracker.ingest(EVENTS[2], Source.CALLBACK).changed
    record = runtime.store().get("wunderkind", MESSAGE_ID)
    assert record is not None
    assert (record.status, record.final, record.reason) == ("delivered", True, None)


@pytest.mark.usefixtures("aws")
def test_a_final_status_leaves_the_poll_index_and_a_non_final_one_is_in_it() -> None:
    tracker = runtime.tracker()
    store = runtime.store()
    tracker.ingest(observed("SENDING", 0, "still-going"), Source.CALLBACK)
    tracker.ingest(observed("DELIVERED", 0, "done"), Source.CALLBACK)
    due = [m.message_id for shard in range(8) for m in store.due(shard, T0 + timedelta(days=30), 100)[0]]
    assert due == ["still-going"]


@pytest.mark.usefixtures("aws")
def test_expired_items_are_invisible_even_before_dynamodb_deletes_them(env: pytest.MonkeyPatch) -> None:
    tracker = runtime.tracker()
    tracker.register("wunderkind", MESSAGE_ID, reference="order-1")
    store = runtime.store()
    # The status is kept RETENTION_DAYS (30) after its last change; its events that long after
    # the message can last have become final (plus TRACKING_DEADLINE_HOURS, 72).
    env.setattr(store, "_clock", lambda: datetime.now(UTC) + timedelta(days=31))
    assert store.get("wunderkind", MESSAGE_ID) is None
    assert store.by_reference("order-1", 10) == []
    assert len(store.history("wunderkind", MESSAGE_ID)[0]) == 1
    env.setattr(store, "_clock", lambda: datetime.now(UTC) + timedelta(days=33, minutes=1))
    assert store.history("wunderkind", MESSAGE_ID) == ([], None)
