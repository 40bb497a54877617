"""Integration fixtures: the handlers on moto, and helpers to read the table directly."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from local.simulators.wunderkind import WunderkindSimulator
from tests.conftest import TEST_ENV
from textstatus import config, runtime
from textstatus.polling import Poller
from textstatus.providers import registry
from textstatus.store import MessageStore, StatusRecord
from textstatus.tracking import Tracker

CALLBACK_HEADERS = {
    "X-Client-ID": TEST_ENV["WUNDERKIND_CALLBACK_ID"],
    "X-Client-Secret": TEST_ENV["WUNDERKIND_CALLBACK_SECRET"],
}


def table_items() -> list[dict[str, Any]]:
    """Every item in the table (tests only: the service itself never scans)."""
    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": os.environ["TABLE_NAME"]}
    while True:
        page = client.scan(**params)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def status_api(aws: None) -> Any:
    from functions.status_api import app

    return app


@pytest.fixture
def callbacks(aws: None) -> Any:
    from functions.callbacks import app

    return app


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Rig:
    clock: FakeClock
    tracker: Tracker
    poller: Poller
    store: MessageStore
    sim: WunderkindSimulator

    def run(self, remaining_ms: int = 60_000) -> Any:
        return self.poller.run(lambda: remaining_ms)

    def record(self, message_id: str) -> StatusRecord:
        record = self.store.get("wunderkind", message_id)
        assert record is not None
        return record


@pytest.fixture
def rig(aws: None, wunderkind_sim: WunderkindSimulator, env: pytest.MonkeyPatch) -> Rig:
    env.setenv("POLL_CONCURRENCY", "1")
    clock = FakeClock()
    settings = config.settings()
    shared = runtime.store()
    store = MessageStore(shared._client, settings.table_name, timedelta(days=settings.retention_days), clock)
    tracker = Tracker(store, registry.adapter, settings, clock)
    return Rig(clock, tracker, Poller(tracker, store, settings, clock), store, wunderkind_sim)
