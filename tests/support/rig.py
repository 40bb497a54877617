"""The poller, the tracker and the store on a fake clock, with the Wunderkind simulator behind them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from local.simulators.wunderkind import WunderkindSimulator
from textstatus.polling import Poller
from textstatus.store import MessageStore, StatusRecord
from textstatus.tracking import Tracker


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
