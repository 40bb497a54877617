"""Property: for any multiset of a message's events, delivered in any order with any duplicates,
through the real store, the status is the greatest event, the history holds each distinct event
once, `version` counts only the events that changed the status (greater than everything before
them, and another status), and the history marks exactly those events as the ones that did.

A word we do not know never changes a tracked message; arriving first, it starts tracking the
message as `accepted` (its first sign), which any word we know then replaces by the same rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.payloads import observed
from textstatus import runtime
from textstatus.events import Observation, Source
from textstatus.providers.comapi import ComapiAdapter

T0 = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
WORDS = [*ComapiAdapter.statuses, "undeliverable_queued"]  # every documented word and an unknown one
_messages = count()


@st.composite
def distinct_events(draw: st.DrawFn) -> list[tuple[str, int]]:
    """Distinct (word, second) pairs: what Comapi can report about one message."""
    return draw(st.lists(st.tuples(st.sampled_from(WORDS), st.integers(0, 5)), min_size=1, max_size=6, unique=True))


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """The distinct events, and an arrival sequence: every one at least once, some twice, any order."""
    events = draw(distinct_events())
    extra = draw(st.lists(st.sampled_from(events), max_size=4))
    return events, draw(st.permutations(events + extra))


def observation(message_id: str, word: str, second: int) -> Observation:
    return observed("comapi", message_id, word, T0 + timedelta(seconds=second))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=deliveries())
def test_any_order_and_duplicates_end_in_the_greatest_event(
    aws: None, case: tuple[list[tuple[str, int]], list[tuple[str, int]]]
) -> None:
    distinct, arrivals = case
    tracker, store = runtime.tracker(), runtime.store()
    message_id = f"prop-{next(_messages)}"
    greatest: Observation | None = None
    changes: set[str] = set()
    for word, second in arrivals:
        event = observation(message_id, word, second)
        applied = event if event.status is not None else None if greatest is not None else event.as_first_sign()
        if applied is not None and (greatest is None or (applied.order_key or "") > (greatest.order_key or "")):
            if greatest is None or applied.status != greatest.status:
                changes.add(event.event_id)  # a change of status counts; a later report of it does not
            greatest = applied
        tracker.ingest(event, Source.CALLBACK)
    history = store.history("comapi", message_id)[0]
    assert sorted((e.event.observation.provider_status, e.event.observation.event_at) for e in history) == sorted(
        (word, observation(message_id, word, second).event_at) for word, second in distinct
    )
    assert {e.event_id for e in history if e.changed_status} == changes
    record = store.get("comapi", message_id)
    assert greatest is not None
    assert record is not None
    assert (record.status, record.reason, record.provider_status, record.order_key) == (
        greatest.status,
        greatest.reason,
        greatest.provider_status,
        greatest.order_key,
    )
    assert record.version == len(changes)
    assert record.final is greatest.status.final  # type: ignore[union-attr]
