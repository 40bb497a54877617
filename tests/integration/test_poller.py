"""The poller on moto against the Wunderkind simulator: polling alone, backoff, deadlines, throttling."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from local.gateway import LambdaContext
from local.simulators.base import Fault
from local.simulators.wunderkind import WunderkindSimulator
from local.stack import scheduled_event
from tests.support.rig import Rig
from textstatus import config, runtime
from textstatus.events import Source
from textstatus.polling import Poller
from textstatus.providers import registry
from textstatus.tracking import Tracker


def forever_sending(sim: WunderkindSimulator) -> str:
    return sim.add_message([("SENDING", 0.0)], silent=True).message_id


def test_a_message_whose_callbacks_are_lost_is_delivered_by_polling_alone(
    aws: None, wunderkind_sim: WunderkindSimulator, env: pytest.MonkeyPatch
) -> None:
    env.setenv("POLL_INITIAL_DELAY_SECONDS", "1")
    env.setenv("POLL_MAX_BACKOFF_SECONDS", "1")
    from functions.poller import app as poller_app
    from functions.status_api import app as status_app
    from tests.support.aws import api_event, invoke

    message = wunderkind_sim.add_message([("SENDING", 0.0), ("DELIVERED", 0.0)], silent=True)
    invoke(
        status_app, api_event("POST", "/v1/messages", body={"provider": "wunderkind", "messageId": message.message_id})
    )
    time.sleep(1.05)
    result = poller_app.lambda_handler(scheduled_event("PollerFunctionSchedule"), LambdaContext("poller", 50))
    assert (result["due"], result["changed"]) == (1, 1)
    code, _, body = invoke(status_app, api_event("GET", f"/v1/messages/wunderkind/{message.message_id}"))
    assert (code, body["status"], body["source"]) == (200, "delivered", "poll")
    assert result["due"] == 1
    again = poller_app.lambda_handler(scheduled_event("PollerFunctionSchedule"), LambdaContext("poller", 50))
    assert again["due"] == 0


def test_a_poll_that_changes_nothing_backs_off_exponentially(rig: Rig) -> None:
    message_id = forever_sending(rig.sim)
    rig.tracker.register("wunderkind", message_id)
    initial = config.settings().poll_initial_delay_seconds
    for attempt in (1, 2, 3):
        rig.clock.advance(hours=2)
        summary = rig.run()
        assert (summary.polled, summary.changed) == (1, attempt == 1)
        record = rig.record(message_id)
        assert record.next_poll_at is not None
        delay = (record.next_poll_at - rig.clock.now).total_seconds()
        if attempt > 1:
            assert record.poll_attempt == attempt - 1
            assert initial <= delay <= initial * 2 ** (attempt - 1)
    assert rig.record(message_id).status == "sending"


def test_a_message_not_yet_due_is_not_polled(rig: Rig) -> None:
    rig.tracker.register("wunderkind", forever_sending(rig.sim))
    assert rig.run().due == 0
    assert sum(rig.sim.request_counts.values()) == 0


def test_the_tracking_deadline_expires_a_message_and_it_leaves_the_index(rig: Rig) -> None:
    message_id = forever_sending(rig.sim)
    rig.tracker.register("wunderkind", message_id)
    rig.clock.advance(hours=config.settings().tracking_deadline_hours + 1)
    summary = rig.run()
    assert summary.expired == 1
    record = rig.record(message_id)
    assert (record.status, record.reason, record.final, record.source) == (
        "expired",
        "timeout",
        True,
        "deadline",
    )
    assert record.next_poll_at is None  # out of the due index
    rig.clock.advance(days=1)
    assert rig.run().due == 0


def test_wunderkinds_seven_day_retention_ends_polling_before_a_longer_deadline(
    rig: Rig, env: pytest.MonkeyPatch
) -> None:
    env.setenv("TRACKING_DEADLINE_HOURS", "500")
    config.reset()
    rig.poller = Poller(
        Tracker(rig.store, registry.adapter, config.settings(), rig.clock), rig.store, config.settings(), rig.clock
    )
    message_id = forever_sending(rig.sim)
    rig.tracker.register("wunderkind", message_id)
    rig.clock.advance(days=6, hours=22)
    assert rig.run().expired == 0
    rig.clock.advance(hours=1, minutes=1)
    assert rig.run().expired == 1
    assert rig.record(message_id).status == "expired"


def test_a_429_pauses_the_provider_and_reschedules_its_messages_after_the_pause(rig: Rig) -> None:
    ids = [forever_sending(rig.sim) for _ in range(3)]
    for message_id in ids:
        rig.tracker.register("wunderkind", message_id)
    rig.sim.set_fault(Fault(status=429, retry_after=30))
    rig.clock.advance(hours=1)
    summary = rig.run()
    assert (summary.due, summary.throttled) == (3, 3)
    assert rig.sim.request_counts["/text/message/status"] == 1
    for message_id in ids:
        resume = rig.record(message_id).next_poll_at
        assert resume is not None
        assert resume == rig.clock.now + timedelta(seconds=30)
        assert rig.record(message_id).poll_attempt == 0


@pytest.mark.parametrize("fault", [Fault(status=500), Fault(status=200, body=b"<html>oops")], ids=["5xx", "not-json"])
def test_a_failing_provider_counts_a_failure_and_backs_off_that_message(rig: Rig, fault: Fault) -> None:
    message_id = forever_sending(rig.sim)
    rig.tracker.register("wunderkind", message_id)
    rig.sim.set_fault(fault)
    rig.clock.advance(hours=1)
    summary = rig.run()
    assert (summary.failed, summary.changed) == (1, 0)
    record = rig.record(message_id)
    assert record.poll_attempt == 1
    assert record.next_poll_at is not None
    assert record.next_poll_at > rig.clock.now


def test_a_run_near_its_timeout_takes_no_work_and_leaves_it_due(rig: Rig) -> None:
    message_id = forever_sending(rig.sim)
    rig.tracker.register("wunderkind", message_id)
    rig.clock.advance(hours=1)
    before = rig.record(message_id)
    summary = rig.run(remaining_ms=1_000)
    assert (summary.due, summary.skipped, summary.polled) == (1, 1, 0)
    assert rig.record(message_id) == before
    assert rig.run().polled == 1


def test_the_poller_fails_the_run_when_dynamodb_is_down(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import EndpointConnectionError

    from functions.poller import app as poller_app
    from textstatus.errors import StorageUnavailableError

    client = runtime.store()._client

    def unreachable(*_: Any, **__: Any) -> Any:
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    monkeypatch.setattr(client, "query", unreachable)
    with pytest.raises(StorageUnavailableError):
        poller_app.lambda_handler(scheduled_event("PollerFunctionSchedule"), LambdaContext("poller", 50))


def test_the_poller_refuses_an_event_that_is_not_a_schedule(aws: None) -> None:
    from aws_lambda_powertools.utilities.parser import ValidationError

    from functions.poller import app as poller_app

    with pytest.raises(ValidationError):
        poller_app.lambda_handler({"hello": "world"}, LambdaContext("poller", 50))


def test_usajobs_not_found_keeps_polling_within_the_grace_period_then_expires(
    rig: Rig, usajobs_sim: Any, env: pytest.MonkeyPatch
) -> None:
    env.setenv("USAJOBS_NOT_FOUND_GRACE_MINUTES", "30")
    registry.reset()
    lost = usajobs_sim.add_message(usajobs_sim.plan_for("DOC-9-lost"))
    rig.tracker.register("usajobs", lost.message_id)
    rig.clock.advance(minutes=10)
    summary = rig.run()
    assert (summary.polled, summary.expired) == (1, 0)
    assert rig.store.get("usajobs", lost.message_id).status == "accepted"  # type: ignore[union-attr]
    rig.clock.advance(minutes=25)
    assert rig.run().expired == 1
    record = rig.store.get("usajobs", lost.message_id)
    assert record is not None
    assert (record.status, record.reason, record.final) == ("expired", "timeout", True)


def test_usajobs_a_receipt_within_the_grace_period_is_polled_to_its_outcome(rig: Rig, usajobs_sim: Any) -> None:
    message = usajobs_sim.add_message([("Failed|4007: opted out", 0.0)])
    rig.tracker.register("usajobs", message.message_id)
    rig.clock.advance(minutes=2)
    assert rig.run().changed == 1
    record = rig.store.get("usajobs", message.message_id)
    assert record is not None
    assert (record.status, record.reason, record.provider_detail) == (
        "rejected",
        "opted_out",
        "4007: opted out",
    )


def test_a_callback_that_keeps_a_message_due_leaves_its_poll_where_it_is(rig: Rig) -> None:
    """A change by callback does not move the message in the due index (that costs a delete and
    a put in the index on every change): its next poll and backoff stay as they were."""
    message_id = rig.sim.add_message([("PENDING_TO_SEND", 0.0)], silent=True).message_id
    rig.tracker.register("wunderkind", message_id)
    rig.clock.advance(hours=2)
    rig.run()  # unchanged: backed off once
    scheduled = rig.record(message_id)
    assert scheduled.poll_attempt == 1
    rig.clock.advance(seconds=10)
    sending = rig.tracker.adapter("wunderkind").observe(message_id, "SENDING", rig.clock.now)
    assert rig.tracker.ingest(sending, Source.CALLBACK).changed
    after = rig.record(message_id)
    assert after.status == "sending"
    assert (after.next_poll_at, after.poll_attempt) == (scheduled.next_poll_at, scheduled.poll_attempt)


def test_a_change_found_by_a_poll_restarts_the_backoff(rig: Rig) -> None:
    message_id = rig.sim.add_message([("PENDING_TO_SEND", 0.0)], silent=True).message_id
    rig.tracker.register("wunderkind", message_id)
    for _ in range(2):
        rig.clock.advance(hours=2)
        rig.run()
    assert rig.record(message_id).poll_attempt == 2
    rig.sim.add_message([("SENDING", 0.0)], message_id, silent=True)
    rig.clock.advance(hours=2)
    assert rig.run().changed == 1
    record = rig.record(message_id)
    assert (record.status, record.poll_attempt) == ("sending", 0)
    initial = config.settings().poll_initial_delay_seconds
    assert record.next_poll_at is not None
    assert initial <= (record.next_poll_at - rig.clock.now).total_seconds() <= initial
