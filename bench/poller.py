"""The poller's three benchmarks (issue 4): throughput, scaling with table size, provider isolation."""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.harness import count_items_read, count_requests, pending, report, rig, timed

LATENCY = 0.050
CONCURRENCY = 8


def _wunderkind(latency: float = LATENCY) -> Any:
    from local.simulators.base import Fault
    from local.simulators.wunderkind import WunderkindSimulator

    simulator = WunderkindSimulator("bench-client-id", "bench-client-secret", tick_seconds=60).start()
    simulator.set_fault(Fault(delay_seconds=latency))
    return simulator


def _delivered(simulator: Any, count: int) -> list[str]:
    return [simulator.add_message([("DELIVERED", 0.0)], silent=True).message_id for _ in range(count)]


def throughput(messages: int = 2000) -> bool:
    """2,000 due messages, provider latency 50 ms, concurrency C: messages/s against
    min(C / latency, the store's own rate for the same writes, measured in the same run)."""
    simulator = _wunderkind()
    try:
        with rig(WUNDERKIND_BASE_URL=simulator.url, POLL_CONCURRENCY=str(CONCURRENCY)) as bench:
            from textstatus.events import Observation, Source
            from textstatus.status import Status

            # The store's own rate: the writes a changed poll makes (event, conditional update),
            # issued directly with the same concurrency.
            sample = [f"store-{n}" for n in range(500)]

            def write(message_id: str) -> None:
                observation = Observation(
                    "wunderkind", message_id, Status.DELIVERED, None, "DELIVERED", bench.clock.now
                )
                bench.tracker.ingest(observation, Source.POLL)

            with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
                store_seconds, _ = timed(lambda: list(pool.map(write, sample)))
            store_rate = len(sample) / store_seconds

            ids = _delivered(simulator, messages)
            pending(bench, "wunderkind", ids)
            bench.due_everything()
            seconds, summary = timed(lambda: bench.poller_factory().run(lambda: 900_000))
            assert summary.changed == messages, summary
    finally:
        simulator.stop()
    rate = messages / seconds
    bound = min(CONCURRENCY / LATENCY, store_rate)
    detail = (
        f"{messages} in {seconds:.1f}s = {rate:.0f}/s; bound min({CONCURRENCY}/{LATENCY:.3f}s = "
        f"{CONCURRENCY / LATENCY:.0f}/s, store {store_rate:.0f}/s)"
    )
    return report("poller throughput / bound", rate / bound, ">= 0.70", rate / bound >= 0.7, detail)


def scaling(due: int = 200, small: int = 200, large: int = 50_000) -> bool:
    """The same due messages in a table holding few and then many final messages: the items
    read and the requests made must not change, and the time barely."""
    results = {}
    for finals in (small, large):
        simulator = _wunderkind(latency=0.005)
        try:
            with rig(WUNDERKIND_BASE_URL=simulator.url, POLL_CONCURRENCY=str(CONCURRENCY)) as bench:
                _fill_with_final_messages(bench, finals)
                pending(bench, "wunderkind", _delivered(simulator, due))
                bench.due_everything()
                items_read = count_items_read(bench.client)
                requests = count_requests(bench.client)
                seconds, summary = timed(lambda: bench.poller_factory().run(lambda: 900_000))
                assert summary.changed == due, summary
                results[finals] = (items_read(), requests(), seconds)
        finally:
            simulator.stop()
    (read_small, calls_small, time_small), (read_large, calls_large, time_large) = results[small], results[large]
    ok = report(
        "poller scaling: items read", read_large / read_small, "== 1.00", read_large == read_small,
        f"{read_small} index items read with {small} final messages in the table, {read_large} with {large}",
    )  # fmt: skip
    ok &= report(
        "poller scaling: requests", calls_large / calls_small, "== 1.00", calls_large == calls_small,
        f"{calls_small} DynamoDB requests with {small} final messages, {calls_large} with {large}",
    )  # fmt: skip
    ratio = time_large / time_small
    ok &= report(
        "poller scaling: time ratio", ratio, "<= 1.20", ratio <= 1.2,
        f"{time_small:.2f}s with {small} final messages, {time_large:.2f}s with {large}; on moto every index "
        "query scans the whole table, so this ratio measures moto: DynamoDB reads only the index items counted above",
    )  # fmt: skip
    return ok


def _fill_with_final_messages(bench: Any, count: int) -> None:
    """Delivered messages (not in the due index), written in batches like a long-lived table."""
    from textstatus.clock import iso

    now = iso(bench.clock.now)
    table = "textstatus-bench"
    for start in range(0, count, 25):
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": f"MSG#wunderkind#{uuid.uuid4()}"},
                        "sk": {"S": "STATUS"},
                        "status": {"S": "delivered"},
                        "final": {"BOOL": True},
                        "orderKey": {"S": f"070#{now}#delivered"},
                        "createdAt": {"S": now},
                        "expiresAt": {"N": str(int(time.time()) + 86_400)},
                    }
                }
            }
            for _ in range(min(25, count - start))
        ]
        bench.client.batch_write_item(RequestItems={table: requests})


def isolation(messages: int = 400) -> bool:
    """A healthy provider's throughput alone, and beside one answering in 5 s or with 503s."""
    from local.simulators.base import Fault
    from local.simulators.comapi import ComapiSimulator

    def healthy_rate(fault: Fault | None) -> float:
        wunderkind = _wunderkind()
        comapi = ComapiSimulator("bench-space", "bench-comapi-token", "bench-comapi-secret", tick_seconds=60).start()
        try:
            with rig(
                WUNDERKIND_BASE_URL=wunderkind.url, COMAPI_BASE_URL=comapi.url, POLL_CONCURRENCY=str(CONCURRENCY)
            ) as bench:
                pending(bench, "wunderkind", _delivered(wunderkind, messages))
                if fault is not None:
                    broken = [comapi.add_message([("delivered", 0.0)], silent=True).message_id for _ in range(messages)]
                    pending(bench, "comapi", broken)
                    comapi.set_fault(fault)
                bench.due_everything()
                deadline = time.monotonic() + 30  # the run's time, as a Lambda's would be
                started = time.monotonic()
                summary = bench.poller_factory().run(lambda: int((deadline - time.monotonic()) * 1000))
                assert summary.by_provider["wunderkind"]["changed"] == messages, summary
                elapsed: float = wunderkind.last_request_at - started
                return messages / elapsed
        finally:
            wunderkind.stop()
            comapi.stop()

    alone = healthy_rate(None)
    ok = True
    for label, fault in (("5 s answers", Fault(delay_seconds=5.0)), ("503s", Fault(status=503))):
        beside = healthy_rate(fault)
        ok &= report(
            f"poller isolation ({label})", beside / alone, ">= 0.90", beside / alone >= 0.9,
            f"healthy provider {beside:.0f}/s beside one with {label}, {alone:.0f}/s alone",
        )  # fmt: skip
    return ok


BENCHMARKS: dict[str, Callable[[], bool]] = {"throughput": throughput, "scaling": scaling, "isolation": isolation}
