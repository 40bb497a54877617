"""Integration fixtures: the poller on a fake clock (`rig`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from local.simulators.wunderkind import WunderkindSimulator
from tests.support.rig import FakeClock, Rig
from textstatus import config, runtime
from textstatus.polling import Poller
from textstatus.providers import registry
from textstatus.store import MessageStore
from textstatus.tracking import Tracker


@pytest.fixture
def rig(aws: None, wunderkind_sim: WunderkindSimulator, env: pytest.MonkeyPatch) -> Rig:
    env.setenv("POLL_CONCURRENCY", "1")
    clock = FakeClock()
    settings = config.settings()
    shared = runtime.store()
    store = MessageStore(shared._client, settings.table_name, timedelta(days=settings.retention_days), clock)
    tracker = Tracker(store, registry.adapter, settings, clock)
    return Rig(clock, tracker, Poller(tracker, store, settings, clock), store, wunderkind_sim)
