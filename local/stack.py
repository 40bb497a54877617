"""Runs the whole service locally: DynamoDB (moto's server), the API, the schedule, simulators.

`make run` runs `python -m local`. Everything is read from template.yaml (routes, the table,
the schedule, the functions' environment); what differs locally comes from LOCAL_* settings.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from local import iam, sam, streams, template
from local.gateway import FunctionHost, FunctionUrlServer, LocalGateway
from local.simulators import SIMULATORS
from local.simulators.base import Simulator
from local.simulators.wunderkind import WunderkindSimulator

ROOT = template.ROOT
LOCAL_TABLE = "textstatus-local"
DEMO_MESSAGE_ID = "f9eea82a-ce63-4dfa-ae8e-09b891f446cc"
RECEIVER_URL = "http://127.0.0.1:9000/"

# Local settings, and the credentials the local stack gives the simulators and the functions
# alike, unless set.
LOCAL_DEFAULTS = {
    "LOCAL_API_PORT": "3000",
    # The callbacks' Lambda function URL (template parameter CallbackFunctionUrl, default true): the
    # simulators post their callbacks there, as providers configured with the CallbackUrl* outputs do.
    "LOCAL_CALLBACK_URL_PORT": "3001",
    "LOCAL_CALLBACK_FUNCTION_URL": template.parameter_defaults().get("CallbackFunctionUrl", "false"),
    "LOCAL_API_KEY": "local-dev-key",
    # ClientAuth as deployed: API_KEY (x-api-key: LOCAL_API_KEY) or AWS_IAM (SigV4 with the local
    # AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, service execute-api, region us-east-1).
    "LOCAL_CLIENT_AUTH": "API_KEY",
    "LOCAL_DYNAMODB_PORT": "8000",
    "LOCAL_STATE_FILE": str(ROOT / ".local" / "stack.json"),
    "LOCAL_SIM_STEP_SECONDS": "5",
    "LOCAL_CONCURRENCY": "4",
    # The local receiver (python -m local.receiver) listens on loopback: allowed locally only.
    "WEBHOOKS_ALLOW_LOOPBACK": "true",
    **{name: value for simulator in SIMULATORS for name, value in simulator.LOCAL_CREDENTIALS.items()},
}


def function_environment(settings: dict[str, str]) -> dict[str, str]:
    """The environment the template gives the functions, resolved for the local stack.

    Parameters take their defaults; the table is the local one; secrets, which the template
    passes as SSM parameter names, are given as values instead (there is no SSM locally).
    """
    defaults = template.parameter_defaults()
    endpoint = f"http://127.0.0.1:{settings['LOCAL_DYNAMODB_PORT']}"
    refs = streams.resource_refs(LOCAL_TABLE, endpoint)  # the queues and buses, created in moto
    resolved: dict[str, str] = {}
    for function in template.functions().values():
        for name, value in function.environment.items():
            if isinstance(value, dict) and "Ref" in value:
                value = (
                    LOCAL_TABLE
                    if value["Ref"] == "MessagesTable"
                    else refs.get(value["Ref"]) or defaults.get(value["Ref"], "")
                )
            if name.endswith("_PARAMETER"):
                continue
            resolved[name] = str(value)
    for name, value in settings.items():
        if not name.startswith("LOCAL_"):
            resolved[name] = value
    resolved.update(
        TABLE_NAME=LOCAL_TABLE,
        AWS_ENDPOINT_URL_DYNAMODB=endpoint,
        # moto's server serves every service on the one port: the stream, the queues, the bus.
        AWS_ENDPOINT_URL_DYNAMODB_STREAMS=endpoint,
        AWS_ENDPOINT_URL_SQS=endpoint,
        AWS_ENDPOINT_URL_EVENTBRIDGE=endpoint,
        AWS_DEFAULT_REGION=settings.get("AWS_DEFAULT_REGION", "us-east-1"),
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",  # noqa: S106 - moto accepts anything
    )
    return resolved


def free_port() -> int:
    """A loopback port nothing listens on now (for stacks started by tests and checks)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def scheduled_event(rule_name: str) -> dict[str, Any]:
    """The event EventBridge sends for a schedule rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{rule_name}"],
        "detail": {},
    }


@dataclass
class LocalStack:
    settings: dict[str, str]
    simulators: dict[str, Simulator] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    function_url: FunctionUrlServer | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.settings['LOCAL_API_PORT']}"

    @property
    def callbacks_url(self) -> str:
        """Where providers post their callbacks: the function URL when the template gives one."""
        if self.function_url is None:
            return self.api_url
        host, port = self.function_url.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        ports = ["LOCAL_API_PORT", "LOCAL_DYNAMODB_PORT"]
        if self.settings.get("LOCAL_CALLBACK_FUNCTION_URL") == "true":
            ports.append("LOCAL_CALLBACK_URL_PORT")
        for name in ports:
            if not _port_free(int(self.settings[name])):
                raise SystemExit(f"port {self.settings[name]} is in use: set {name} to a free port")
        self._start_simulators()
        os.environ.update(function_environment(self.settings))
        self._start_dynamodb()
        self.policies = self._policies()
        self.gateway = LocalGateway(
            "127.0.0.1",
            int(self.settings["LOCAL_API_PORT"]),
            self.settings["LOCAL_API_KEY"],
            containers=int(self.settings["LOCAL_CONCURRENCY"]),
            policies=self.policies,
        )
        self._serve_api_docs()
        self._serve(self.gateway.serve_forever, "gateway")
        if self.settings.get("LOCAL_CALLBACK_FUNCTION_URL") == "true":
            # Same warm environments as the API's routes to the function (one function, one pool).
            self.function_url = FunctionUrlServer(
                "127.0.0.1",
                int(self.settings["LOCAL_CALLBACK_URL_PORT"]),
                "CallbacksFunction",
                self.gateway.host_functions,
            )
            self._serve(self.function_url.serve_forever, "callbacks function URL")
        self._configure_callbacks()
        self._start_schedules()
        self._write_state()

    @staticmethod
    def _policies() -> iam.Policies | None:
        """The functions' roles from the transformed template: a call a role does not allow is
        refused with AccessDeniedException, as on AWS (needs .venv-sam, where the translator is)."""
        if not sam.available():
            print(
                "IAM is not enforced locally: run `make template-check` to install the SAM translator", file=sys.stderr
            )
            return None
        return iam.Policies.from_template()

    def _serve_api_docs(self) -> None:
        """The OpenAPI document at /openapi.json and Swagger UI at /docs (its assets come with Powertools)."""
        from aws_lambda_powertools.event_handler.openapi.swagger_ui import html

        from local.openapi import document as api_document

        # The document as committed, but naming this stack's own address (LOCAL_API_PORT), so "Try it
        # out" in the docs page calls this stack.
        document = api_document()
        document["servers"] = [{"url": self.api_url, "description": "this local stack (make run)"}]
        spec = json.dumps(document, indent=2, sort_keys=True)
        assets = Path(html.__file__).parent
        page = html.generate_swagger_html(
            spec,
            (assets / "swagger-ui-bundle.min.js").read_text(),
            (assets / "swagger-ui.min.css").read_text(),
            swagger_base_url="",
            oauth2_config=None,
        )
        self.gateway.extra_routes[("GET", "/openapi.json")] = lambda: (200, "application/json", spec.encode())
        self.gateway.extra_routes[("GET", "/docs")] = lambda: (200, "text/html; charset=utf-8", page.encode())

    def _start_simulators(self) -> None:
        """A simulator for each provider whose *_BASE_URL is not set, with the same credentials
        as the functions get."""
        step = float(self.settings["LOCAL_SIM_STEP_SECONDS"])
        for simulator_class in SIMULATORS:
            variable = f"{simulator_class.name.upper()}_BASE_URL"
            if not self.settings.get(variable):
                simulator = simulator_class.from_settings(self.settings, step).start()
                self.simulators[simulator_class.name] = simulator
                self.settings[variable] = simulator.url
        wunderkind = self.simulators.get("wunderkind")
        if isinstance(wunderkind, WunderkindSimulator):
            wunderkind.add_message(wunderkind.plan_for("+15551230000"), DEMO_MESSAGE_ID, phone="+15551230000")

    def _configure_callbacks(self) -> None:
        """Point each simulator's callbacks at the local API, authenticated as configured."""
        for provider, simulator in self.simulators.items():
            simulator.callback_target = simulator.callback_target_for(
                f"{self.callbacks_url}/v1/callbacks/{provider}", self.settings
            )

    def _start_dynamodb(self) -> None:
        import logging

        import boto3

        from local.dynamodb import LocalDynamoDB

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.dynamodb = LocalDynamoDB(int(self.settings["LOCAL_DYNAMODB_PORT"])).start()
        client = boto3.client("dynamodb")
        arguments, ttl_attribute = template.table_definition(LOCAL_TABLE)
        client.create_table(**arguments)
        if ttl_attribute:
            client.update_time_to_live(
                TableName=LOCAL_TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
            )
        self.refs = streams.create_resources(LOCAL_TABLE)

    def poll_interval_seconds(self, expression: str | None = None) -> float:
        """LOCAL_POLL_INTERVAL, or the template's schedule."""
        override = self.settings.get("LOCAL_POLL_INTERVAL")
        if override:
            return float(override)
        return template.rate_seconds(expression or template.schedules()[0][1])

    def _start_schedules(self) -> None:
        host = FunctionHost(containers=1, policies=self.policies)
        for function, expression in template.schedules():
            interval = self.poll_interval_seconds(expression)

            def run(function: template.FunctionDef = function, interval: float = interval) -> None:
                while not self._stop.wait(interval):
                    try:
                        host.invoke(
                            function.module,
                            function.handler,
                            function.logical_id,
                            function.timeout_seconds,
                            scheduled_event(f"{function.logical_id}Schedule"),
                        )
                    except Exception as exc:  # noqa: BLE001 - a failed run is logged; the schedule goes on
                        print(f"schedule: {function.logical_id} failed: {exc!r}", file=sys.stderr)

            self._serve(run, f"schedule-{function.logical_id}")
        self._start_event_sources()

    def _start_event_sources(self) -> None:
        """The table's stream into the notifier and the FIFO queue into the delivery function, as
        the template's event source mappings do (local.streams)."""
        host = FunctionHost(containers=int(self.settings["LOCAL_CONCURRENCY"]), policies=self.policies)

        def invoke(function: template.FunctionDef, event: dict[str, Any]) -> Any:
            return host.invoke(function.module, function.handler, function.logical_id, function.timeout_seconds, event)

        workers = int(self.settings["LOCAL_CONCURRENCY"])
        streams.EventSources(LOCAL_TABLE, self.refs, invoke, self._stop, queue_workers=workers).start()

    def _serve(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _write_state(self) -> None:
        state = {
            "apiUrl": self.api_url,
            "callbacksUrl": self.callbacks_url,
            "apiKey": self.settings["LOCAL_API_KEY"],
            "environment": function_environment(self.settings),
            "simulators": {name: simulator.url for name, simulator in self.simulators.items()},
        }
        path = Path(self.settings["LOCAL_STATE_FILE"])
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2))
        temporary.replace(path)

    def stop(self) -> None:
        self._stop.set()
        self.gateway.shutdown()
        if self.function_url is not None:
            self.function_url.shutdown()
        for simulator in self.simulators.values():
            simulator.stop()
        self.dynamodb.stop()
        Path(self.settings["LOCAL_STATE_FILE"]).unlink(missing_ok=True)

    def banner(self) -> str:
        key, url = self.settings["LOCAL_API_KEY"], self.api_url
        lines = [
            "textstatus is running locally.",
            f"  API:        {url}  "
            + (
                "(ClientAuth AWS_IAM: sign with SigV4, service execute-api, region us-east-1, access key "
                "`local`, secret key `local`; the curls below need that signature instead of the key)"
                if self.settings.get("LOCAL_CLIENT_AUTH") == "AWS_IAM"
                else f"(x-api-key: {key})"
            ),
            f"  API docs:   {url}/docs  (OpenAPI: {url}/openapi.json)",
            f"  Callbacks:  {self.callbacks_url}/v1/callbacks/<provider>  (where the simulators post; "
            + (
                "the callbacks' function URL, as CallbackFunctionUrl=true deploys it)"
                if self.function_url
                else "the API)"
            ),
            f"  DynamoDB:   http://127.0.0.1:{self.settings['LOCAL_DYNAMODB_PORT']}  (table {LOCAL_TABLE})",
        ]
        lines += [f"  Simulator:  {name} at {sim.url}" for name, sim in self.simulators.items()]
        lines += [
            f"  Poller:     every {self.poll_interval_seconds():g}s",
            f"  Changes:    the table's stream -> NotifierFunction -> bus {self.refs.get('NotificationsBus')}"
            " and the FIFO queue -> DeliveryFunction (webhooks)",
            "",
            "Try it (the simulator is sending a demo Wunderkind message that is delivered in a few seconds):",
            f"  curl -s -X POST {url}/v1/messages -H 'x-api-key: {key}' -H 'Content-Type: application/json' "
            f'-d \'{{"provider": "wunderkind", "messageId": "{DEMO_MESSAGE_ID}", "reference": "order-1234"}}\'',
            f"  curl -s {url}/v1/messages/wunderkind/{DEMO_MESSAGE_ID} -H 'x-api-key: {key}'",
            f"  curl -s {url}/v1/messages/wunderkind/{DEMO_MESSAGE_ID}/events -H 'x-api-key: {key}'",
            "The outcomes report for Wunderkind over the last week (the demo message included):",
            f"  curl -s '{url}/v1/reports/outcomes?{report_query(datetime.now(UTC))}' -H 'x-api-key: {key}'",
            "",
            "Webhooks: subscribe the local receiver, then start it with the secret the answer shows:",
            f"  curl -s -X POST {url}/v1/subscriptions -H 'x-api-key: {key}' -H 'Content-Type: application/json' "
            f'-d \'{{"url": "{RECEIVER_URL}", "description": "local receiver"}}\'',
            "  .venv/bin/python -m local.receiver --port 9000 --secret whsec_...",
            "",
            "Ctrl-C stops everything.",
        ]
        return "\n".join(lines)


def report_query(now: datetime) -> str:
    """The banner's report: Wunderkind's messages from six days before today (UTC) to tomorrow."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = today - timedelta(days=6), today + timedelta(days=1)
    return f"provider=wunderkind&from={start:%Y-%m-%dT%H:%M:%SZ}&to={end:%Y-%m-%dT%H:%M:%SZ}"


def settings_from_environment() -> dict[str, str]:
    settings = dict(LOCAL_DEFAULTS)
    settings.update({name: value for name, value in os.environ.items() if value and _is_ours(name)})
    return settings


def _is_ours(name: str) -> bool:
    prefixes = (
        *("LOCAL_", "USAJOBS_", "COMAPI_", "GOVDELIVERY_", "WUNDERKIND_", "POLL_", "TRACKING_"),
        *("RETENTION_", "HTTP_", "POWERTOOLS_", "SECRET_", "WEBHOOK", "REFERENCE_KEY"),
    )
    return name.startswith(prefixes)


def main() -> None:
    stack = LocalStack(settings_from_environment())
    stack.start()
    print(stack.banner(), flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    print("stopping...", flush=True)
    stack.stop()
