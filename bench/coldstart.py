"""The cold start a user sees (issue 14): the first request a fresh function answers.

Each figure is a fresh interpreter that imports a function as the Lambda runtime does (the built
function's folder and the built layer on its path, boto3 from the interpreter: `.venv-runtime`,
which has only boto3 as the runtime does) and handles one API Gateway event, against a fresh
interpreter that imports boto3, creates a DynamoDB client and makes the very same DynamoDB
requests the handler made (recorded from a handler run through botocore's event hooks, then
replayed): what is left is what our code costs a cold request. Both are timed inside the
interpreter, from the first import to the last answer (the interpreter's own start is the same for
both and left out), and neither may write bytecode: Lambda's code directories are read-only, so
what `make build` ships is what runs.

Cases: a Comapi webhook (Comapi's own envelope, signed with X-Comapi-Signature) through
CallbacksFunction, and a status lookup of a known message through StatusApiFunction. DynamoDB is
moto's server on loopback with the template's table, as in the local stack. Runs are interleaved
(handler, baseline, handler, ...) so drift hits both; the figure is the ratio of the medians.

`python -m bench.coldstart --importtime` prints the slowest imports of one cold callback instead.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import ROOT, report

RUNS = 9
TARGET = 1.3
TABLE = "textstatus-coldstart"
BUILD = ROOT / ".aws-sam" / "build"
LAYER = BUILD / "SharedLayer" / "python"
RUNTIME_PYTHON = ROOT / ".venv-runtime" / "bin" / "python"

# The handler's interpreter: argv = function folder, layer folder, event file, and "record" to
# print the DynamoDB requests made instead of the times (a separate, untimed run).
HANDLER = r"""
import json, sys, time
event = json.load(open(sys.argv[3]))
record = sys.argv[4:] == ["record"]
class Context:
    function_name = "coldstart"; memory_limit_in_mb = 256; aws_request_id = "coldstart"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:coldstart"
    def get_remaining_time_in_millis(self): return 10000
started = time.perf_counter()
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
imported = time.perf_counter()
if record:
    from botocore import xform_name
    from textstatus import runtime
    requests = []
    runtime.dynamodb().meta.events.register(
        "provide-client-params.dynamodb.*",
        lambda params, model, **_: requests.append((xform_name(model.name), params)),
    )
answer = app.lambda_handler(event, Context())
answered = time.perf_counter()
if answer["statusCode"] != 200:
    raise SystemExit(f"answered {answer['statusCode']}: {answer['body']}")
print("COLDSTART " + json.dumps(requests if record else [answered - started, imported - started]))
"""

# The baseline's interpreter: argv = a file of [[method, params], ...] to replay.
BASELINE = r"""
import json, sys, time
requests = json.load(open(sys.argv[1]))
started = time.perf_counter()
import boto3
client = boto3.client("dynamodb")
for method, params in requests:
    getattr(client, method)(**params)
print("COLDSTART " + json.dumps([time.perf_counter() - started]))
"""


@dataclass(frozen=True)
class Case:
    name: str
    function: str  # logical id
    event: Callable[[str], dict[str, Any]]  # the event of a run (by its id)
    fresh: bool  # True: each run is about a message of its own (its id replaces "record" in the requests)


@dataclass
class Figures:
    handled: list[float]
    imports: list[float]
    direct: list[float]
    requests: list[str]

    def median_ms(self, values: list[float]) -> float:
        return statistics.median(values) * 1000


def _python() -> tuple[str, str]:
    """The interpreter of both sides: .venv-runtime (boto3 alone, as in the Lambda runtime) if
    `make bench` made it, else this one (with every dependency of the project installed)."""
    if RUNTIME_PYTHON.exists():
        return str(RUNTIME_PYTHON), ".venv-runtime"
    return sys.executable, "this virtualenv (no .venv-runtime)"


def _comapi_event(environment: dict[str, str]) -> Callable[[str], dict[str, Any]]:
    """A Comapi `message.delivered` webhook as Comapi sends it (events/callbacks/comapi_delivered.json),
    for a message and an event id of its own, signed with the configured webhook secret."""
    from local.gateway import proxy_event
    from local.simulators.comapi import sign
    from local.template import api_routes

    sample = json.loads((ROOT / "events" / "callbacks" / "comapi_delivered.json").read_text())
    route = next(r for r in api_routes() if r.method == "POST" and r.path == "/v1/callbacks/{provider}")

    def event(run: str) -> dict[str, Any]:
        envelope = json.loads(sample["body"])
        envelope["eventId"] = f"evt-{run}"
        envelope["payload"]["id"] = f"msg-{run}"
        envelope["apiSpaceId"] = environment["COMAPI_API_SPACE_ID"]
        body = json.dumps(envelope).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("X-Comapi-Signature", sign(environment["COMAPI_WEBHOOK_SECRET"], body)),
        ]
        return proxy_event(route, "POST", "/v1/callbacks/comapi", [], headers, body)

    return event


def _lookup_event(message_id: str) -> Callable[[str], dict[str, Any]]:
    from local.gateway import proxy_event
    from local.template import api_routes

    route = next(r for r in api_routes() if r.method == "GET" and r.path == "/v1/messages/{provider}/{messageId}")
    return lambda _: proxy_event(route, "GET", f"/v1/messages/comapi/{message_id}", [], [], b"", api_key="bench")


def _environment(endpoint: str) -> dict[str, str]:
    """The functions' environment from the template, secrets as values (as the local stack gives
    them), DynamoDB on loopback, and no bytecode written (Lambda cannot)."""
    from local.stack import LOCAL_DEFAULTS, function_environment

    port = endpoint.rsplit(":", 1)[1]
    return {
        "PATH": os.environ.get("PATH", ""),
        **function_environment({**LOCAL_DEFAULTS, "LOCAL_DYNAMODB_PORT": port}),
        "TABLE_NAME": TABLE,
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _run(code: str, arguments: list[str], environment: dict[str, str], *flags: str) -> Any:
    run = subprocess.run(
        [_python()[0], *flags, "-c", code, *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = next((x for x in run.stdout.splitlines() if x.startswith("COLDSTART ")), None)
    if run.returncode != 0 or line is None:
        raise RuntimeError(f"cold start run failed: {(run.stderr or run.stdout).strip()[-2000:]}")
    return json.loads(line.removeprefix("COLDSTART "))


class Bench:
    """moto's DynamoDB server with the template's table, and the two sides' interpreters."""

    def __init__(self, endpoint: str, work: Path) -> None:
        self.environment = _environment(endpoint)
        self.work = work

    def handler(self, case: Case, run: str, *extra: str, flags: tuple[str, ...] = ()) -> Any:
        path = self.work / f"event-{run}.json"
        path.write_text(json.dumps(case.event(run)))
        folder = BUILD / case.function
        return _run(HANDLER, [str(folder), str(LAYER), str(path), *extra], self.environment, *flags)

    def baseline(self, requests: str, run: str) -> float:
        path = self.work / f"requests-{run}.json"
        path.write_text(requests)
        (seconds,) = _run(BASELINE, [str(path)], self.environment)
        return float(seconds)

    def measure(self, case: Case, runs: int) -> Figures:
        recorded = self.handler(case, "record", "record")
        text = json.dumps(recorded)

        def replayed(run: str) -> str:
            return text.replace("-record", f"-{run}") if case.fresh else text

        self.baseline(replayed("direct-first"), "direct-first")  # the OS's file cache, for both sides
        figures = Figures([], [], [], [method for method, _ in recorded])
        for number in range(runs):
            handled, imported = self.handler(case, f"handler-{number}")
            figures.handled.append(handled)
            figures.imports.append(imported)
            figures.direct.append(self.baseline(replayed(f"direct-{number}"), f"direct-{number}"))
        return figures


def _cases(bench: Bench, known: str) -> list[Case]:
    comapi = _comapi_event(bench.environment)
    return [
        Case("callback", "CallbacksFunction", comapi, fresh=True),
        Case("lookup", "StatusApiFunction", _lookup_event(f"msg-{known}"), fresh=False),
    ]


@contextmanager
def _dynamodb() -> Iterator[str]:
    """moto's server on loopback with the template's table (as `make run` has it): its URL."""
    import boto3

    from local.dynamodb import LocalDynamoDB
    from local.stack import free_port
    from local.template import table_definition

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = LocalDynamoDB(free_port()).start()
    try:
        client = boto3.client(
            "dynamodb",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto accepts anything
        )
        arguments, _ = table_definition(TABLE)
        client.create_table(**arguments)
        yield server.url
    finally:
        server.stop()


def first_request() -> bool:
    if not (BUILD / "CallbacksFunction").is_dir() or not LAYER.is_dir():
        return report("first request", 0, f"<= {TARGET:.2f}", False, "no built functions: run `make build`")
    with _dynamodb() as endpoint, tempfile.TemporaryDirectory() as directory:
        bench = Bench(endpoint, Path(directory))
        known = f"known-{uuid.uuid4().hex[:8]}"
        callback, lookup = _cases(bench, known)
        bench.handler(callback, known)  # the known message, stored as a callback would store it
        ok = True
        for case in (callback, lookup):
            figures = bench.measure(case, RUNS)
            handled, direct = figures.median_ms(figures.handled), figures.median_ms(figures.direct)
            ratio = handled / direct
            requests = " + ".join(figures.requests)
            ok &= report(
                f"first request: {case.name} / boto3", ratio, f"<= {TARGET:.2f}", ratio <= TARGET,
                f"{handled:.0f} ms from the first import to the answer (import {figures.median_ms(figures.imports):.0f}"
                f" ms), {direct:.0f} ms for boto3, its client and the same {requests} (median of {RUNS};"
                f" {_python()[1]})",
            )  # fmt: skip
    return ok


def importtime(top: int = 25) -> None:
    """The slowest imports of one cold callback (python -X importtime), cumulative, in ms."""
    with _dynamodb() as endpoint, tempfile.TemporaryDirectory() as directory:
        bench = Bench(endpoint, Path(directory))
        callback, _ = _cases(bench, "unused")
        path = bench.work / "event.json"
        path.write_text(json.dumps(callback.event("importtime")))
        run = subprocess.run(
            [_python()[0], "-X", "importtime", "-c", HANDLER, str(BUILD / callback.function), str(LAYER), str(path)],
            env=bench.environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    rows = []
    for line in run.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    for cumulative, name in sorted(rows, reverse=True)[:top]:
        print(f"{cumulative / 1000:8.1f} ms {name}")


BENCHMARKS: dict[str, Callable[[], bool]] = {"first-request": first_request}


if __name__ == "__main__":
    if sys.argv[1:] == ["--importtime"]:
        importtime()
        sys.exit(0)
    sys.exit(0 if first_request() else 1)
