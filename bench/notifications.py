"""Notifications: from a change of status to the subscriber's 200, locally.

Everything runs in one process on moto: the real callbacks handler changes statuses, the
template's event sources (local.streams: the stream into the notifier, the FIFO queue into the
delivery function, two queue workers) carry the changes, and a receiver on a loopback port
answers 200 at once.

What moto cannot show: Lambda's own polling delays (a stream is polled about four times a
second per shard, an SQS queue by long polling), cold starts, EventBridge's and SQS's real
latencies, SQS FIFO throughput limits and Lambda's scaling per message group. The latency here is
this code's share; on AWS expect a few hundred milliseconds more.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.harness import ENV, notifications_on_moto, report

CHANGES = 500


@contextmanager
def _stack() -> Iterator[tuple[Any, Counter[str], Callable[[], None]]]:
    """moto with the template's table, queues and bus; one subscription (the real store) with one
    subscriber; the event sources running. Yields the receiver, a request counter and start()."""
    os.environ.update(ENV)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(name, None)
    from botocore.client import BaseClient
    from moto import mock_aws

    from local import streams, template
    from local.dynamodb import make_moto_atomic
    from local.gateway import LambdaContext
    from tests.webhook_receiver import Receiver
    from textstatus import runtime
    from textstatus.notifications import wiring

    make_moto_atomic()
    runtime.reset()
    requests: Counter[str] = Counter()
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
        requests[f"{self.meta.service_model.service_name}:{operation}"] += 1
        return original(self, operation, params)

    receiver = Receiver().start()
    stop = threading.Event()
    with mock_aws():
        refs = notifications_on_moto("textstatus-bench", receiver.url, "benchmark receiver")

        def invoke(function: template.FunctionDef, event: dict[str, Any]) -> Any:
            module = importlib.import_module(function.module)
            return module.lambda_handler(event, LambdaContext(function.logical_id, function.timeout_seconds))

        def start() -> None:
            sources = streams.EventSources(ENV["TABLE_NAME"], refs, invoke, stop, queue_workers=2)
            for pump in sources.start():
                if isinstance(pump, streams.StreamPump):
                    pump.poll_seconds = 0.02
                else:
                    pump.poll_seconds = 0.01

        BaseClient._make_api_call = counting  # type: ignore[attr-defined]
        try:
            yield receiver, requests, start
        finally:
            BaseClient._make_api_call = original  # type: ignore[attr-defined]
            stop.set()
            time.sleep(0.3)
            receiver.stop()
            wiring.reset()
    runtime.reset()


def _callback(message_id: str, status: str) -> None:
    from functions.callbacks import app
    from tests.support.aws import api_event, invoke

    body = {"messageID": message_id, "status": status, "phone": "+15551230000"}
    headers = {"X-Client-ID": ENV["WUNDERKIND_CALLBACK_ID"], "X-Client-Secret": ENV["WUNDERKIND_CALLBACK_SECRET"]}
    status_code, _, _ = invoke(app, api_event("POST", "/v1/callbacks/wunderkind", body=body, headers=headers))
    assert status_code == 200


def _wait(receiver: Any, count: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while len(receiver.accepted()) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def latency(changes: int = CHANGES) -> bool:
    """p50 and p99 from the status change (the callback's write) to the receiver's 200, one change
    at a time every 20 ms (so this is latency, not queueing)."""
    with _stack() as (receiver, _requests, start):
        start()
        changed_at: dict[tuple[str, int], float] = {}
        for number in range(changes // 2):
            message_id = f"bench-latency-{number:05d}"
            for sequence, word in ((1, "SENDING"), (2, "DELIVERED")):
                changed_at[(message_id, sequence)] = time.monotonic()
                _callback(message_id, word)
                time.sleep(0.02)
        _wait(receiver, len(changed_at))
        seconds = []
        for received in receiver.accepted():
            data = json.loads(received.body)["data"]
            seconds.append(received.at - changed_at[(data["messageId"], data["sequence"])])
    seconds.sort()
    p50 = statistics.median(seconds)
    p99 = seconds[max(0, round(len(seconds) * 0.99) - 1)]
    ok = report(
        "notify: change -> 200, p50 (s)", p50, "< 1.0", p50 < 1.0 and len(seconds) == changes, f"{len(seconds)} changes"
    )
    report("notify: change -> 200, p99 (s)", p99, "(report)", True, "moto in-process; see bench/notifications.py")
    return ok


def throughput(changes: int = CHANGES) -> bool:
    """Deliveries per second once the changes are queued, and the AWS requests each one costs."""
    with _stack() as (receiver, requests, start):
        for number in range(changes // 2):
            for word in ("SENDING", "DELIVERED"):
                _callback(f"bench-rate-{number:05d}", word)
        requests.clear()
        started = time.monotonic()
        start()
        _wait(receiver, changes)
        elapsed = time.monotonic() - started
        delivered = len(receiver.accepted())
    rate = delivered / elapsed
    by_service: Counter[str] = Counter()
    for name, made in requests.items():
        by_service[name.split(":", 1)[0]] += made
    detail = ", ".join(f"{name} {made}" for name, made in sorted(requests.items()))
    ok = report("notify: deliveries per second", rate, "(report)", delivered == changes, f"{delivered} delivered")
    report(
        "notify: DynamoDB requests / change",
        by_service["dynamodb"] / max(1, delivered),
        "(report)",
        True,
        "stream reads excluded; subscriptions listed once per batch",
    )
    report(
        "notify: SQS requests / change", by_service["sqs"] / max(1, delivered), "(report)", True, "incl. receive/delete"
    )
    report(
        "notify: stream requests / change",
        by_service["dynamodbstreams"] / max(1, delivered),
        "(report)",
        True,
        detail[:200],
    )
    return ok


BENCHMARKS: dict[str, Callable[[], bool]] = {"notify-latency": latency, "notify-throughput": throughput}
