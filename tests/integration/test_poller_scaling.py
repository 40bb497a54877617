"""The poller under load and faults: budgets, isolation between providers, overlapping runs, metrics."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from local.simulators.base import Fault
from local.simulators.comapi import ComapiSimulator
from tests.support.rig import Rig
from textstatus import config
from textstatus.polling import CONSECUTIVE_FAILURE_LIMIT, Poller
from textstatus.providers import registry
from textstatus.tracking import Tracker


def rebuild(rig: Rig) -> None:
    """Take settings changed by the test."""
    config.reset()
    registry.reset()
    rig.tracker = Tracker(rig.store, registry.adapter, config.settings(), rig.clock)
    rig.poller = Poller(rig.tracker, rig.store, config.settings(), rig.clock)


def wunderkind_messages(rig: Rig, count: int, plan: list[tuple[str, float]] | None = None) -> list[str]:
    ids = []
    for _ in range(count):
        message = rig.sim.add_message(plan or [("SENDING", 0.0), ("DELIVERED", 0.0)], silent=True)
        rig.tracker.register("wunderkind", message.message_id)
        ids.append(message.message_id)
    return ids


def comapi_messages(rig: Rig, sim: ComapiSimulator, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        message = sim.add_message([("processing", 0.0), ("delivered", 0.0)], silent=True)
        rig.tracker.register("comapi", message.message_id)
        ids.append(message.message_id)
    return ids


def test_a_run_takes_at_most_its_budget_oldest_first(rig: Rig, env: pytest.MonkeyPatch) -> None:
    env.setenv("POLL_BATCH_SIZE", "10")
    rebuild(rig)
    ids = wunderkind_messages(rig, 25)
    rig.clock.advance(hours=1)
    first = rig.run()
    assert (first.due, first.changed) == (10, 10)
    assert (rig.run().due, rig.run().due) == (10, 5)
    assert all(rig.record(message_id).status == "delivered" for message_id in ids)


def test_the_poller_reads_the_due_index_and_never_scans(rig: Rig) -> None:
    wunderkind_messages(rig, 3)
    operations: list[tuple[str, str | None]] = []
    client = rig.store._client
    client.meta.events.register(
        "provide-client-params.dynamodb.*",
        lambda params, model, **_: operations.append((model.name, params.get("IndexName"))),
    )
    rig.clock.advance(hours=1)
    rig.run()
    assert "Scan" not in {name for name, _ in operations}
    assert {index for name, index in operations if name == "Query"} == {"due-index"}
    assert not {name for name, _ in operations} - {"Query", "PutItem", "UpdateItem"}


@pytest.mark.parametrize(
    "fault",
    [Fault(status=503), Fault(delay_seconds=1.0)],
    ids=["503-without-retry-after", "slow"],
)
def test_a_failing_provider_does_not_hold_back_a_healthy_one(
    rig: Rig, comapi_sim: ComapiSimulator, env: pytest.MonkeyPatch, fault: Fault
) -> None:
    env.setenv("HTTP_READ_TIMEOUT_SECONDS", "0.2")
    env.setenv("POLL_CONCURRENCY", "2")
    rebuild(rig)
    healthy = wunderkind_messages(rig, 12)
    broken = comapi_messages(rig, comapi_sim, 12)
    comapi_sim.set_fault(fault)
    rig.clock.advance(hours=1)
    summary = rig.run()
    assert summary.by_provider["wunderkind"]["changed"] == 12
    assert all(rig.record(message_id).status == "delivered" for message_id in healthy)
    comapi = summary.by_provider["comapi"]
    assert comapi["failed"] >= CONSECUTIVE_FAILURE_LIMIT
    assert comapi["failed"] + comapi["deferred"] == 12
    assert comapi["deferred"] > 0
    assert summary.failing_providers == ["comapi"]
    for message_id in broken:
        record = rig.store.get("comapi", message_id)
        assert record is not None
        assert record.status == "accepted"
        assert record.poll_attempt == 1
    comapi_sim.set_fault(None)
    rig.clock.advance(hours=3)
    assert rig.run().by_provider["comapi"]["changed"] == 12


def test_overlapping_runs_corrupt_nothing(rig: Rig, env: pytest.MonkeyPatch) -> None:
    env.setenv("POLL_CONCURRENCY", "4")
    rebuild(rig)
    ids = wunderkind_messages(rig, 30, plan=[("SENDING", 0.0), ("DELIVERED", 0.0)])
    rig.clock.advance(hours=1)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            Poller(rig.tracker, rig.store, config.settings(), rig.clock).run(lambda: 60_000)
        except BaseException as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for message_id in ids:
        record = rig.record(message_id)
        assert (record.status, record.version) == ("delivered", 2)
        assert record.next_poll_at is None  # out of the due index
        events = rig.store.history("wunderkind", message_id)[0]
        assert sorted(e.event.observation.provider_status or "" for e in events) == ["", "DELIVERED"]


def test_each_run_publishes_totals_and_per_provider_metrics_with_lag(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    wunderkind_messages(rig, 2)
    rig.clock.advance(hours=1)
    capsys.readouterr()
    rig.run()
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    per_provider: list[dict[str, Any]] = [r for r in records if r.get("provider") == "wunderkind" and "PollDue" in r]
    assert len(per_provider) == 1
    record = per_provider[0]
    assert record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["provider", "service"]]
    values = {name: value[0] if isinstance(value, list) else value for name, value in record.items()}
    assert (values["PollDue"], values["PollChanged"], values["PollFailed"], values["ProviderFailing"]) == (2, 2, 0, 0)
    assert values["PollLagSeconds"] >= 3000
