"""What the benchmarks share: an environment, moto in-process with the template's table, the
simulators, and a poller on a clock the benchmark moves. Every figure is a ratio against a
baseline measured in the same run, because this machine (and CI's) is noisy."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "shared"), str(ROOT)]

ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_SERVICE_NAME": "textstatus",
    "POWERTOOLS_METRICS_NAMESPACE": "TextStatus",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "TABLE_NAME": "textstatus-bench",
    "WUNDERKIND_CLIENT_ID": "bench-client-id",
    "WUNDERKIND_CLIENT_SECRET": "bench-client-secret",
    "WUNDERKIND_CALLBACK_ID": "bench-callback-id",
    "WUNDERKIND_CALLBACK_SECRET": "bench-callback-secret",
    "COMAPI_API_SPACE_ID": "bench-space",
    "COMAPI_TOKEN": "bench-comapi-token",
    "COMAPI_WEBHOOK_SECRET": "bench-comapi-secret",
    "POLL_BATCH_SIZE": "10000",
    "HTTP_READ_TIMEOUT_SECONDS": "10",
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    clock: Clock
    tracker: Any
    poller_factory: Callable[[], Any]
    client: Any

    def due_everything(self) -> None:
        self.clock.now += timedelta(hours=2)


def report(name: str, value: float, target: str, ok: bool, detail: str) -> bool:
    line = f"{name:<34} {value:8.2f}  target {target:<10} {'OK' if ok else 'MISSED'}   {detail}"
    print(line, file=sys.__stdout__, flush=True)
    return ok


@contextmanager
def rig(**settings: str) -> Iterator[Rig]:
    """moto with the template's table and a tracker/poller whose clock the benchmark moves."""
    os.environ.update(ENV)
    os.environ.update(settings)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(name, None)
    import boto3
    from moto import mock_aws

    from local.dynamodb import make_moto_atomic
    from local.template import table_definition
    from textstatus import config, runtime
    from textstatus.polling import Poller
    from textstatus.providers import registry
    from textstatus.store import MessageStore
    from textstatus.tracking import Tracker

    make_moto_atomic()
    runtime.reset()
    with mock_aws():
        client = boto3.client("dynamodb")
        arguments, _ = table_definition(ENV["TABLE_NAME"])
        client.create_table(**arguments)
        clock = Clock()
        settings_ = config.settings()
        store = MessageStore(client, settings_.table_name, timedelta(days=30), clock)
        tracker = Tracker(store, registry.adapter, settings_, clock)
        yield Rig(clock, tracker, lambda: Poller(tracker, store, settings_, clock), client)
    runtime.reset()


def notifications_on_moto(prefix: str, receiver_url: str, description: str) -> dict[str, str]:
    """Inside `mock_aws`: the template's table, queues and bus, the functions' settings pointing at
    them, and one subscription (through the real store) for `receiver_url`. The resources' refs."""
    import boto3

    from local import streams
    from local.template import table_definition
    from textstatus import runtime
    from textstatus.notifications import wiring
    from textstatus.subscriptions import SubscriptionFilter

    arguments, _ = table_definition(os.environ["TABLE_NAME"])
    boto3.client("dynamodb").create_table(**arguments)
    refs = streams.create_resources(prefix)
    os.environ.update(
        EVENT_BUS_NAME=refs["NotificationsBus"],
        DELIVERY_QUEUE_URL=refs["DeliveryQueue"],
        DELIVERY_DLQ_URL=refs["DeliveryDeadLetterQueue"],
        WEBHOOKS_ALLOW_LOOPBACK="true",
    )
    runtime.reset()
    wiring.reset()
    runtime.subscriptions().create(receiver_url, description, SubscriptionFilter())
    return refs


def pending(rig: Rig, provider: str, message_ids: list[str]) -> None:
    """Messages the service tracks without a final status (what the poller will find due)."""
    from textstatus.events import Observation, Source
    from textstatus.status import Status

    for message_id in message_ids:
        rig.tracker.ingest(
            Observation(provider, message_id, Status.SENDING, None, "SENDING", rig.clock.now), Source.CALLBACK
        )


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def count_items_read(client: Any) -> Callable[[], int]:
    """Items DynamoDB read for queries (ScannedCount), counted at the client."""
    read = [0]

    def after(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in ("Query", "Scan"):
            read[0] += int(parsed.get("ScannedCount", parsed.get("Count", 0)))

    client.meta.events.register("after-call.dynamodb.*", after)
    return lambda: read[0]


def count_requests(client: Any) -> Callable[[], int]:
    """DynamoDB requests made through the client."""
    made = [0]

    def before(**_: Any) -> None:
        made[0] += 1

    client.meta.events.register("before-call.dynamodb.*", before)
    return lambda: made[0]
