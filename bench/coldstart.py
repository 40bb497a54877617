"""The cold start a user sees (issue 14): the first request a fresh function answers.

Each figure is a fresh interpreter that imports a function as the Lambda runtime does (the built
function's folder and the built layer on its path, boto3 from the interpreter: `.venv-runtime`,
which has only boto3 as the runtime does) and handles one API Gateway event, against a fresh
interpreter that imports boto3 and makes the very same AWS requests the handler made, each
service's client made when first needed (the requests are recorded from a handler run at
botocore's client, then replayed): what is left is what our code costs a cold request. Both are
timed inside the interpreter, from the first import to the last answer (the interpreter's own start
is the same for both and left out), and neither may write bytecode: Lambda's code directories are
read-only, so what `make build` ships is what runs.

Cases: a Comapi webhook (Comapi's own envelope, signed with X-Comapi-Signature) through
CallbacksFunction, whose secret is read from SSM as on AWS (the template passes secrets as SSM
parameter names), then stored with two DynamoDB writes; and a status lookup of a known message
through StatusApiFunction (one GetItem). DynamoDB and SSM are moto's server on loopback, with the
template's table, as in the local stack. Runs are interleaved (handler, baseline, handler, ...) so
drift hits both; the figure is the ratio of the medians.

Each case also runs as after a SnapStart restore (a figure without a target): imported and primed
untimed, as the snapshot holds it, with container credentials as SnapStart gives them, then timed
from the after-restore hook to the answer. Lambda's restore itself only AWS can show.

`python -m bench.coldstart --importtime` prints the slowest imports of one cold callback instead;
`python -m bench.coldstart --against <dir>` measures another build (`.aws-sam/build` of an older
commit, say) in the same interleaved runs.
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
WEBHOOK_SECRET = "coldstart-comapi-webhook-secret"  # noqa: S105 - moto's, for the bench only

# The handler's interpreter: argv = function folder, layer folder, event file, and a mode:
# - none: a cold start, timed from the first import to the answer;
# - "record": the AWS requests made instead of the times (a separate, untimed run);
# - "restore": a SnapStart restore: imported and primed (what the snapshot holds) untimed, then
#   timed from the after-restore hook to the answer.
HANDLER = r"""
import json, sys, time
event = json.load(open(sys.argv[3]))
mode = sys.argv[4] if len(sys.argv) > 4 else ""
if mode == "record":  # every AWS request any client makes: service, method and parameters
    import botocore.client
    from botocore import xform_name
    requests, send = [], botocore.client.BaseClient._make_api_call
    def recorded(client, operation, params):
        requests.append((client.meta.service_model.service_name, xform_name(operation), params))
        return send(client, operation, params)
    botocore.client.BaseClient._make_api_call = recorded
class Context:
    function_name = "coldstart"; memory_limit_in_mb = 256; aws_request_id = "coldstart"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:coldstart"
    def get_remaining_time_in_millis(self): return 10000
started = time.perf_counter()
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
imported = time.perf_counter()
if mode == "restore":
    from textstatus import runtime
    runtime.prime()
    started = imported = time.perf_counter()
    runtime.restored()
answer = app.lambda_handler(event, Context())
answered = time.perf_counter()
if answer["statusCode"] != 200:
    raise SystemExit(f"answered {answer['statusCode']}: {answer['body']}")
print("COLDSTART " + json.dumps(requests if mode == "record" else [answered - started, imported - started]))
"""

# The baseline's interpreter: argv = a file of [[service, method, params], ...] to replay, each
# service's client made from boto3's default session when first needed.
BASELINE = r"""
import json, sys, time
requests = json.load(open(sys.argv[1]))
started = time.perf_counter()
import boto3
clients = {}
for service, method, params in requests:
    if service not in clients:
        clients[service] = boto3.client(service)
    getattr(clients[service], method)(**params)
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
    handled: list[float]  # seconds from the first import to the answer
    imports: list[float]  # seconds of that in importing the function


def _median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def _python() -> tuple[str, str]:
    """The interpreter of both sides: .venv-runtime (boto3 alone, as in the Lambda runtime) if
    `make bench` made it, else this one (with every dependency of the project installed)."""
    if RUNTIME_PYTHON.exists():
        return str(RUNTIME_PYTHON), ".venv-runtime"
    return sys.executable, "this virtualenv (no .venv-runtime)"


def _comapi_event(environment: dict[str, str]) -> Callable[[str], dict[str, Any]]:
    """A Comapi `message.delivered` webhook as Comapi sends it (events/callbacks/comapi_delivered.json),
    for a message and an event id of its own, signed with the webhook secret (in SSM)."""
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
            ("X-Comapi-Signature", sign(WEBHOOK_SECRET, body)),
        ]
        return proxy_event(route, "POST", "/v1/callbacks/comapi", [], headers, body)

    return event


def _lookup_event(message_id: str) -> Callable[[str], dict[str, Any]]:
    from local.gateway import proxy_event
    from local.template import api_routes

    route = next(r for r in api_routes() if r.method == "GET" and r.path == "/v1/messages/{provider}/{messageId}")
    return lambda _: proxy_event(route, "GET", f"/v1/messages/comapi/{message_id}", [], [], b"", api_key="bench")


def _environment(endpoint: str) -> dict[str, str]:
    """The functions' environment from the template, as the local stack gives it, except that the
    Comapi webhook secret is read from SSM (moto's, by the parameter name the template passes) as on
    AWS; DynamoDB and SSM on loopback; no bytecode written (Lambda cannot)."""
    from local.stack import LOCAL_DEFAULTS, function_environment
    from local.template import parameter_defaults

    port = endpoint.rsplit(":", 1)[1]
    environment = {
        "PATH": os.environ.get("PATH", ""),
        **function_environment({**LOCAL_DEFAULTS, "LOCAL_DYNAMODB_PORT": port}),
        "TABLE_NAME": TABLE,
        "AWS_ENDPOINT_URL_SSM": endpoint,
        "COMAPI_WEBHOOK_SECRET_PARAMETER": parameter_defaults()["ComapiWebhookSecretParameter"],
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    del environment["COMAPI_WEBHOOK_SECRET"]
    return environment


def _run(code: str, arguments: list[str], environment: dict[str, str]) -> Any:
    run = subprocess.run(
        [_python()[0], "-c", code, *arguments],
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
    """The two sides' interpreters, against moto's server (DynamoDB, SSM)."""

    def __init__(self, endpoint: str, work: Path, credentials: str) -> None:
        self.environment = _environment(endpoint)
        self.restored_environment = {
            **{name: value for name, value in self.environment.items() if not name.startswith("AWS_SECRET")},
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": credentials,
        }
        del self.restored_environment["AWS_ACCESS_KEY_ID"]
        self.work = work

    def restored(self, case: Case, runs: int) -> list[float]:
        """The first request after a SnapStart restore, `runs` times (seconds)."""
        return [self.handler(case, f"restored-{number}", mode="restore")[0] for number in range(runs)]

    def handler(self, case: Case, run: str, mode: str = "", build: Path = BUILD) -> Any:
        path = self.work / f"event-{run}.json"
        path.write_text(json.dumps(case.event(run)))
        layer = build / "SharedLayer" / "python"
        # Under SnapStart, Lambda gives the function container credentials (refreshable), not keys.
        environment = self.restored_environment if mode == "restore" else self.environment
        return _run(HANDLER, [str(build / case.function), str(layer), str(path), mode], environment)

    def baseline(self, requests: str, run: str) -> float:
        path = self.work / f"requests-{run}.json"
        path.write_text(requests)
        (seconds,) = _run(BASELINE, [str(path)], self.environment)
        return float(seconds)

    def measure(self, case: Case, runs: int, builds: list[Path]) -> tuple[list[Figures], list[float], list[str]]:
        """Each build's figures, the baseline's times and the requests replayed, runs interleaved."""
        recorded = self.handler(case, "record", mode="record")
        text = json.dumps(recorded)

        def replayed(run: str) -> str:
            return text.replace("-record", f"-{run}") if case.fresh else text

        self.baseline(replayed("direct-first"), "direct-first")  # the OS's file cache, for both sides
        figures = [Figures([], []) for _ in builds]
        direct = []
        for number in range(runs):
            for index, build in enumerate(builds):
                handled, imported = self.handler(case, f"handler-{index}-{number}", build=build)
                figures[index].handled.append(handled)
                figures[index].imports.append(imported)
            direct.append(self.baseline(replayed(f"direct-{number}"), f"direct-{number}"))
        return figures, direct, [f"{service} {method}" for service, method, _ in recorded]


def _cases(bench: Bench, known: str) -> list[Case]:
    comapi = _comapi_event(bench.environment)
    return [
        Case("callback", "CallbacksFunction", comapi, fresh=True),
        Case("lookup", "StatusApiFunction", _lookup_event(f"msg-{known}"), fresh=False),
    ]


@contextmanager
def _moto() -> Iterator[str]:
    """moto's server on loopback, as `make run` has it, with the template's table and the Comapi
    webhook secret in SSM: its URL."""
    import boto3

    from local.dynamodb import LocalDynamoDB
    from local.stack import free_port
    from local.template import parameter_defaults, table_definition

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = LocalDynamoDB(free_port()).start()
    try:
        session = boto3.session.Session(
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto accepts anything
        )
        arguments, _ = table_definition(TABLE)
        session.client("dynamodb", endpoint_url=server.url).create_table(**arguments)
        session.client("ssm", endpoint_url=server.url).put_parameter(
            Name=parameter_defaults()["ComapiWebhookSecretParameter"], Value=WEBHOOK_SECRET, Type="SecureString"
        )
        yield server.url
    finally:
        server.stop()


@contextmanager
def _container_credentials() -> Iterator[str]:
    """What Lambda gives a SnapStart function instead of access keys: an endpoint serving
    temporary credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI), which botocore refreshes itself.
    Here on loopback, serving the keys moto accepts: its URL."""
    import threading
    from datetime import UTC, datetime, timedelta
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    expiry = (datetime.now(UTC) + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = json.dumps(
        {"AccessKeyId": "local", "SecretAccessKey": "local", "Token": "local", "Expiration": expiry}
    ).encode()

    class Credentials(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Credentials)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/credentials"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _info(name: str, value: float, detail: str) -> None:
    """A figure without a target (what the local stack can show of something only AWS measures)."""
    print(f"{name:<34} {value:8.2f}  target {'-':<10} INFO     {detail}", file=sys.__stdout__, flush=True)


def first_request(against: Path | None = None) -> bool:
    """The figures against their target; with `against` (another build, say of an older commit),
    its figures too, from the same interleaved runs."""
    if not (BUILD / "CallbacksFunction").is_dir() or not LAYER.is_dir():
        return report("first request", 0, f"<= {TARGET:.2f}", False, "no built functions: run `make build`")
    builds = [BUILD] if against is None else [BUILD, against]
    with _moto() as endpoint, _container_credentials() as credentials, tempfile.TemporaryDirectory() as directory:
        bench = Bench(endpoint, Path(directory), credentials)
        known = f"known-{uuid.uuid4().hex[:8]}"
        callback, lookup = _cases(bench, known)
        bench.handler(callback, known)  # the known message, stored as a callback would store it
        ok = True
        for case in (callback, lookup):
            figures, direct, requests = bench.measure(case, RUNS, builds)
            baseline = _median_ms(direct)
            for build, measured in zip(builds, figures, strict=True):
                handled = _median_ms(measured.handled)
                ratio = handled / baseline
                name = f"first request: {case.name} / boto3" + ("" if build == BUILD else f" ({build})")
                passed = report(
                    name, ratio, f"<= {TARGET:.2f}", ratio <= TARGET,
                    f"{handled:.0f} ms from the first import to the answer (import"
                    f" {_median_ms(measured.imports):.0f} ms), {baseline:.0f} ms for boto3, its client and the same"
                    f" {' + '.join(requests)} (median of {RUNS}; {_python()[1]})",
                )  # fmt: skip
                ok &= passed or build != BUILD
            restored = _median_ms(bench.restored(case, RUNS))
            _info(
                f"first request: {case.name}, SnapStart", restored / baseline,
                f"{restored:.0f} ms from the after-restore hook to the answer, primed as in the snapshot, against"
                f" the same cold boto3 ({baseline:.0f} ms); plus Lambda's restore itself, which only AWS shows",
            )  # fmt: skip
    return ok


def importtime(top: int = 25) -> None:
    """The slowest imports of one cold callback (python -X importtime), cumulative, in ms."""
    with _moto() as endpoint, tempfile.TemporaryDirectory() as directory:
        bench = Bench(endpoint, Path(directory), "")
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
    arguments = sys.argv[1:]
    if arguments == ["--importtime"]:
        importtime()
        sys.exit(0)
    if arguments[:1] == ["--against"] and len(arguments) == 2:
        sys.exit(0 if first_request(Path(arguments[1])) else 1)
    if arguments:
        sys.exit("usage: python -m bench.coldstart [--importtime | --against <another .aws-sam/build>]")
    sys.exit(0 if first_request() else 1)
