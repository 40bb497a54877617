"""The hot paths' benchmarks (issue 7): cold start, warm overhead, DynamoDB operations per
request, item size and layer size. Every figure is a ratio or a count from this run."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench.harness import ROOT, report, rig

COLD_START_RUNS = 9
COLD_START_TARGETS = {"functions.callbacks.app": 1.5, "functions.status_api.app": 1.5, "functions.poller.app": 2.0}
MESSAGE_ID = "f9eea82a-ce63-4dfa-ae8e-09b891f446cc"


def _import_seconds(module: str) -> float:
    """Median import time of `module` in fresh interpreters, as a Lambda cold start imports it.

    With bytecode, as `make build` ships it for our code and pip for the libraries: one untimed
    import first writes it for the sources here.
    """
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {
        **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
        "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}:{ROOT}",
        "POWERTOOLS_SERVICE_NAME": "textstatus",
        "POWERTOOLS_METRICS_NAMESPACE": "TextStatus",
    }
    subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
    runs = [
        float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)
        for _ in range(COLD_START_RUNS)
    ]
    return statistics.median(runs)


def cold_start() -> bool:
    baseline = _import_seconds("boto3")
    ok = True
    for module, target in COLD_START_TARGETS.items():
        seconds = _import_seconds(module)
        name = module.split(".")[1]
        ok &= report(
            f"cold start: {name} / boto3", seconds / baseline, f"<= {target:.2f}", seconds / baseline <= target,
            f"import {seconds * 1000:.0f} ms, boto3 alone {baseline * 1000:.0f} ms (median of {COLD_START_RUNS})",
        )  # fmt: skip
    return ok


def _callback_event(status: str) -> dict[str, Any]:
    from local.gateway import proxy_event
    from local.template import api_routes

    route = next(r for r in api_routes() if r.method == "POST" and r.path == "/v1/callbacks/{provider}")
    body = json.dumps({"messageID": MESSAGE_ID, "status": status}).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("X-Client-ID", "bench-callback-id"),
        ("X-Client-Secret", "bench-callback-secret"),
    ]
    return proxy_event(route, "POST", "/v1/callbacks/wunderkind", [], headers, body)


def _lookup_event(message_id: str) -> dict[str, Any]:
    from local.gateway import proxy_event
    from local.template import api_routes

    route = next(r for r in api_routes() if r.method == "GET" and r.path == "/v1/messages/{provider}/{messageId}")
    return proxy_event(route, "GET", f"/v1/messages/wunderkind/{message_id}", [], [], b"", api_key="bench")


def _interleaved(first: Callable[[int], Any], second: Callable[[int], Any], count: int) -> tuple[float, float]:
    """Rates of two actions run turn about, so drift (a growing table, a busy machine) hits both."""
    spent = [0.0, 0.0]
    for number in range(count):
        for index, action in enumerate((first, second)):
            started = time.perf_counter()
            action(number)
            spent[index] += time.perf_counter() - started
    return count / spent[0], count / spent[1]


def warm_overhead(count: int = 300) -> bool:
    """Callbacks and lookups handled per second (event in, response out), against the very same
    DynamoDB requests issued directly with boto3 (recorded from the handler, replayed), both on
    moto in this process: what is left is the service's own overhead."""
    with rig():
        from botocore import xform_name

        from functions.callbacks import app as callbacks
        from functions.status_api import app as status_api
        from local.gateway import LambdaContext
        from textstatus import runtime

        client = runtime.store()._client
        context = LambdaContext("bench", 10)

        def recorded(action: Callable[[], Any]) -> list[tuple[str, str]]:
            requests: list[tuple[str, str]] = []

            def record(params: dict[str, Any], model: Any, **_: Any) -> None:
                requests.append((xform_name(model.name), json.dumps(params)))

            client.meta.events.register("provide-client-params.dynamodb.*", record)
            action()
            client.meta.events.unregister("provide-client-params.dynamodb.*", record)
            return requests

        def replay(requests: list[tuple[str, str]], original: str, replacement: str) -> None:
            for method, params in requests:
                getattr(client, method)(**json.loads(params.replace(original, replacement)))

        events = [_callback_event("DELIVERED") for _ in range(count)]
        for number, event in enumerate(events):
            event["body"] = event["body"].replace(MESSAGE_ID, f"handler-{number:04d}")
        callback_requests = recorded(lambda: callbacks.lambda_handler(events[0], context))
        handled, direct = _interleaved(
            lambda n: callbacks.lambda_handler(events[n + 1], context),
            lambda n: replay(callback_requests, "handler-0000", f"direct-{n:04d}"),
            count - 1,
        )
        ok = report(
            "warm: callbacks / same requests", handled / direct, ">= 0.85", handled / direct >= 0.85,
            f"{handled:.0f} callbacks/s through the handler, {direct:.0f}/s for its {len(callback_requests)} "
            "DynamoDB requests replayed directly",
        )  # fmt: skip

        lookup = _lookup_event("handler-0001")
        lookup_requests = recorded(lambda: status_api.lambda_handler(lookup, context))
        handled, direct = _interleaved(
            lambda _: status_api.lambda_handler(lookup, context), lambda _: replay(lookup_requests, "", ""), count
        )
        ok &= report(
            "warm: lookups / same requests", handled / direct, ">= 0.85", handled / direct >= 0.85,
            f"{handled:.0f} lookups/s through the handler, {direct:.0f}/s for its {len(lookup_requests)} request",
        )  # fmt: skip
    return ok


def operations() -> bool:
    """DynamoDB requests per request, counted at the boto3 client."""
    with rig() as bench:
        from functions.callbacks import app as callbacks
        from functions.status_api import app as status_api
        from local.gateway import LambdaContext, proxy_event
        from local.template import api_routes
        from textstatus import runtime

        client = runtime.store()._client
        calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.update([model.name]))
        context = LambdaContext("bench", 10)
        reads = {"GetItem", "Query", "BatchGetItem", "Scan"}

        def measure(action: Callable[[], Any]) -> Counter[str]:
            calls.clear()
            action()
            return Counter(calls)

        change = measure(lambda: callbacks.lambda_handler(_callback_event("DELIVERED"), context))
        duplicate = measure(lambda: callbacks.lambda_handler(_callback_event("DELIVERED"), context))
        lookup = measure(lambda: status_api.lambda_handler(_lookup_event(MESSAGE_ID), context))
        route = next(r for r in api_routes() if r.method == "POST" and r.path == "/v1/messages")
        batch = [{"index": n, "messageId": f"batch-{n:03d}"} for n in range(100)]
        body = json.dumps({"provider": "comapi", "sendResponse": batch}).encode()
        register = measure(
            lambda: status_api.lambda_handler(
                proxy_event(
                    route, "POST", "/v1/messages", [], [("Content-Type", "application/json")], body, api_key="b"
                ),
                context,
            )
        )
        del bench

    def writes(counted: Counter[str]) -> int:
        return sum(n for name, n in counted.items() if name not in reads)

    def read_count(counted: Counter[str]) -> int:
        return sum(n for name, n in counted.items() if name in reads)

    ok = report(
        "ops: callback that changes status", writes(change), "<= 2 writes",
        writes(change) <= 2 and read_count(change) == 0, f"{dict(change)}",
    )  # fmt: skip
    ok &= report(
        "ops: duplicate callback", writes(duplicate), "<= 2 writes",
        writes(duplicate) <= 2 and read_count(duplicate) == 0, f"{dict(duplicate)}",
    )  # fmt: skip
    ok &= report(
        "ops: lookup of a known message", sum(lookup.values()), "== 1 GetItem", lookup == Counter({"GetItem": 1}),
        f"{dict(lookup)}, no provider call",
    )  # fmt: skip
    transactions = register["TransactWriteItems"]
    ok &= report(
        "ops: register a batch of 100", sum(register.values()), "== 2 TransactWriteItems",
        register == Counter({"TransactWriteItems": 2}),
        f"{dict(register)}: each message's event and status item together, 50 messages a transaction, "
        f"conditional on neither existing ({transactions} requests, 2 write units per item); no read back",
    )  # fmt: skip
    return ok


def item_size() -> bool:
    """The current-status item of a typical message, by DynamoDB's own sizing rules."""
    with rig() as bench:
        from textstatus import runtime

        status_api = __import__("functions.status_api.app", fromlist=["app"])
        from local.gateway import LambdaContext

        context = LambdaContext("bench", 10)
        body = json.dumps(
            {
                "provider": "wunderkind",
                "messageId": MESSAGE_ID,
                "reference": "order-1234",
                "metadata": {"team": "alerts"},
            }
        )
        from local.gateway import proxy_event
        from local.template import api_routes

        route = next(r for r in api_routes() if r.method == "POST" and r.path == "/v1/messages")
        status_api.lambda_handler(
            proxy_event(
                route, "POST", "/v1/messages", [], [("Content-Type", "application/json")], body.encode(), api_key="b"
            ),
            context,
        )
        from functions.callbacks import app as callbacks

        callbacks.lambda_handler(_callback_event("SENDING"), context)
        raw: dict[str, Any] = runtime.store()._client.get_item(
            TableName=os.environ["TABLE_NAME"], Key={"pk": {"S": f"MSG#wunderkind#{MESSAGE_ID}"}, "sk": {"S": "STATUS"}}
        )["Item"]
        del bench
    size: int = sum(len(name.encode()) + _attribute_size(value) for name, value in raw.items())
    return report(
        "item size: current status", size, "< 1024 B", size < 1024,
        f"{len(raw)} attributes of a registered message in flight (one write unit per update)",
    )  # fmt: skip


def _attribute_size(value: dict[str, Any]) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        return len(content.lstrip("-").replace(".", "")) // 2 + 2
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _attribute_size(v) + 1 for k, v in content.items())
    if kind == "L":
        return 3 + sum(_attribute_size(v) + 1 for v in content)
    return len(str(content))


def layer_size() -> bool:
    from local.buildcheck import FORBIDDEN_IN_LAYER, LAYER_LIMIT_BYTES, layer_dir, unzipped_size

    layer = layer_dir()
    if not layer.is_dir():
        return report("layer size", 0, "< 20 MB", False, "no built layer: run `make build`")
    size = unzipped_size(layer)
    bundled = [name for name in FORBIDDEN_IN_LAYER if (layer / "python" / name).exists()]
    return report(
        "layer size (MB, unzipped)", size / 1024 / 1024, "< 20", size <= LAYER_LIMIT_BYTES and not bundled,
        f"boto3/botocore inside: {', '.join(bundled) or 'none'}",
    )  # fmt: skip


BENCHMARKS: dict[str, Callable[[], bool]] = {
    "coldstart": cold_start,
    "warm": warm_overhead,
    "operations": operations,
    "itemsize": item_size,
    "layer": layer_size,
}
