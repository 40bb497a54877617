"""What every provider simulator shares: an HTTP server on 127.0.0.1, a clock that moves
messages through their statuses, callbacks, fault injection, and a control API for tests.

Control API (JSON, under /_sim, no auth; loopback only):
- GET  /_sim/requests            how many provider API requests were served, by path
- POST /_sim/faults              {"status": 429, "retryAfter": 2, "count": 3}, {"delaySeconds": 5, "count": 1},
                                 {"status": 200, "body": "<html>"};
                                 "count" omitted: until cleared; POST {} clears
- POST /_sim/callbacks           {"url": ..., "method": "POST", "headers": {...}} where callbacks go;
                                 {"url": null} stops them
- POST /_sim/messages            {"messageId"?: ..., "plan": [["SENDING", 0.5], ["DELIVERED", 1]], "data"?: {...}}
                                 a message with a chosen plan; data {"silent": true} loses its callbacks
- POST /_sim/messages/<id>/callback  {"status"?: ..., "times"?: 2, "part"?: recipient} send a callback now
                                 (duplicates, reordering)
- POST /_sim/callbacks also takes {"duplicates": 2} (every callback twice) and {"reverse": true}
  (a message's callbacks held until its last status, then delivered newest first)
"""

from __future__ import annotations

import hmac
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit

import requests

Reply = tuple[int, dict[str, str], bytes]


def local_credentials(provider: str, *settings: str) -> dict[str, str]:
    """The local stack's made-up credentials: `<PROVIDER>_<SETTING>` is `local-<provider>-<setting>`."""
    return {f"{provider.upper()}_{name}": f"local-{provider}-{name.lower().replace('_', '-')}" for name in settings}


def json_reply(status: int, document: Any, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(document).encode()


@dataclass
class SimRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


Plan = list[tuple[str, float]]  # (status, seconds after creation)


def status_in(plan: Plan, elapsed: float) -> str:
    current = plan[0][0]
    for status, at in plan:
        if elapsed >= at:
            current = status
    return current


@dataclass
class SimMessage:
    message_id: str
    plan: Plan
    created: float = field(default_factory=time.monotonic)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    data: dict[str, Any] = field(default_factory=dict)
    reported: dict[str, int] = field(default_factory=dict)  # timeline -> steps whose callback was sent

    def elapsed(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.created

    def status_at(self, now: float) -> str:
        return status_in(self.plan, now - self.created)

    def reached_at(self, plan: Plan, status: str) -> datetime:
        """The wall-clock time a timeline reached a status (for providers that report times)."""
        at = next((offset for word, offset in plan if word == status), 0.0)
        return self.created_at + timedelta(seconds=at)


@dataclass
class Fault:
    status: int | None = None
    retry_after: float | None = None
    delay_seconds: float = 0.0
    remaining: int | None = None  # None: until cleared
    body: bytes | None = None


class Simulator(ThreadingHTTPServer):
    """Base of the provider simulators. Subclasses add routes and callback payloads."""

    daemon_threads = True
    name = "provider"
    # The credentials the local stack gives this simulator and the functions alike, unless set.
    LOCAL_CREDENTIALS: ClassVar[dict[str, str]] = {}
    # The constructor's arguments taken from the provider's settings: argument -> setting name.
    SETTINGS: ClassVar[dict[str, str]] = {}
    # What the provider answers a request without its credentials, and one with wrong ones.
    MISSING_CREDENTIALS: ClassVar[tuple[int, Any]] = (401, {"message": "Unauthorized"})
    WRONG_CREDENTIALS: ClassVar[tuple[int, Any] | None] = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, str], step_seconds: float, tick_seconds: float = 0.1) -> Self:
        """The simulator the local stack runs, with the provider settings the functions get."""
        build: Callable[..., Self] = cls
        arguments = {argument: settings[name] for argument, name in cls.SETTINGS.items()}
        return build(**arguments, step_seconds=step_seconds, tick_seconds=tick_seconds)

    def credentials(self) -> dict[str, str]:
        """The headers (lower-case names) every provider API request must carry, and their values."""
        return {}

    def callback_target_for(self, callback_url: str, settings: Mapping[str, str]) -> dict[str, Any] | None:
        """Where and how this provider's callbacks reach the local API; None for no callbacks."""
        return {"url": callback_url}

    def __init__(self, port: int = 0, tick_seconds: float = 0.1, step_seconds: float = 1.0) -> None:
        super().__init__(("127.0.0.1", port), _SimHandler)
        self.step_seconds = step_seconds  # how long a message stays in each status
        self.lock = threading.RLock()
        self.messages: dict[str, SimMessage] = {}
        self.request_counts: Counter[str] = Counter()
        self.fault: Fault | None = None
        self.callback_target: dict[str, Any] | None = None
        self.callbacks_sent: list[dict[str, Any]] = []
        self.last_request_at = 0.0
        self._tick = tick_seconds
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    # Lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        for target in (self._serve, self._progress):
            thread = threading.Thread(target=target, name=f"sim-{self.name}", daemon=True)
            thread.start()
            self._workers.append(thread)
        return self

    def _serve(self) -> None:
        # A short poll interval makes stop() prompt (tests start and stop many simulators).
        self.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self._stop.set()
        self.shutdown()
        self.server_close()

    # What subclasses provide -------------------------------------------------------------

    def routes(self) -> dict[tuple[str, str], Callable[[SimRequest], Reply]]:
        raise NotImplementedError

    def timelines(self, message: SimMessage) -> list[tuple[str, Plan]]:
        """The status timelines of a message that callbacks report: one, or one per recipient."""
        return [("", message.plan)]

    def send_callback(self, message: SimMessage, status: str, part: str = "") -> None:
        """Deliver one callback for `status` to the configured target (providers differ)."""

    def deliver_callbacks(self, due: list[tuple[SimMessage, str, str]]) -> None:
        """Deliver the callbacks that came due in one tick (a provider may batch them)."""
        for message, status, part in due:
            self.send_callback(message, status, part)

    # Shared behaviour --------------------------------------------------------------------

    def add_message(self, plan: list[tuple[str, float]], message_id: str | None = None, **data: Any) -> SimMessage:
        message = SimMessage(message_id or str(uuid.uuid4()), plan, data=data)
        with self.lock:
            self.messages[message.message_id] = message
        return message

    def add_from_control(self, body: dict[str, Any]) -> SimMessage:
        """A message created through the control API: {"plan": [[status, seconds], ...], "data": {...}}."""
        plan = [(str(status), float(at)) for status, at in body["plan"]]
        if not plan:
            raise ValueError("plan is required")
        return self.add_message(plan, body.get("messageId"), **body.get("data", {}))

    def set_fault(self, fault: Fault | None) -> None:
        with self.lock:
            self.fault = fault

    def _take_fault(self) -> Fault | None:
        with self.lock:
            fault = self.fault
            if fault is None:
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.fault = None
            return fault

    def _progress(self) -> None:
        """Move messages along their plans and send a callback for each new status.

        The callback target may ask for {"duplicates": n} (every callback n times) and
        {"reverse": true} (a message's callbacks held until its last step, then sent newest first).
        """
        while not self._stop.wait(self._tick):
            now = time.monotonic()
            due: list[tuple[SimMessage, str, str]] = []
            with self.lock:
                target = self.callback_target
                if target is None:
                    continue
                copies = max(1, int(target.get("duplicates", 1)))
                reverse = bool(target.get("reverse"))
                for message in self.messages.values():
                    if message.data.get("silent"):
                        continue  # a message whose callbacks are lost: only polling finds its status
                    for part, plan in self.timelines(message):
                        reached = sum(1 for _, at in plan if now - message.created >= at)
                        done = message.reported.get(part, 0)
                        if reached <= done or (reverse and reached < len(plan)):
                            continue
                        steps = [plan[index][0] for index in range(done, reached)]
                        message.reported[part] = reached
                        for status in reversed(steps) if reverse else steps:
                            due += [(message, status, part)] * copies
            if due:
                self.deliver_callbacks(due)

    def post_callback(self, method: str, headers: dict[str, str], body: bytes) -> int | None:
        """One delivery attempt; returns the HTTP status, or None when the target was unreachable."""
        with self.lock:
            target = dict(self.callback_target or {})
        if not target.get("url"):
            return None
        try:
            response = requests.request(
                method, target["url"], headers={**target.get("headers", {}), **headers}, data=body, timeout=10
            )
        except requests.RequestException:
            status = None
        else:
            status = response.status_code
        with self.lock:
            self.callbacks_sent.append({"method": method, "status": status, "body": body.decode("utf-8", "replace")})
        return status

    def handle(self, request: SimRequest) -> Reply:
        if request.path.startswith("/_sim/"):
            return self._control(request)
        handler = self.routes().get((request.method, request.path))
        if handler is None:
            handler = self._match_prefix(request)
        if handler is None:
            return json_reply(404, {"code": 404, "message": "Not Found", "details": []})
        with self.lock:
            self.request_counts[request.path] += 1
            self.last_request_at = time.monotonic()
        fault = self._take_fault()
        if fault is not None:
            if fault.delay_seconds:
                time.sleep(fault.delay_seconds)
            if fault.status is not None:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                body = fault.body if fault.body is not None else json.dumps(self.error_body(fault.status)).encode()
                return fault.status, {"Content-Type": "application/json", **headers}, body
        return self.refused(request) or handler(request)

    def refused(self, request: SimRequest) -> Reply | None:
        """The provider's refusal of a request without its credentials (compared in constant
        time); None when every credential header matches."""
        expected = self.credentials()
        given = {name: request.headers.get(name, "") for name in expected}
        matches = [hmac.compare_digest(given[name].encode(), value.encode()) for name, value in expected.items()]
        if all(matches):
            return None
        status, body = self.MISSING_CREDENTIALS
        if self.WRONG_CREDENTIALS is not None and all(given.values()):
            status, body = self.WRONG_CREDENTIALS
        return json_reply(status, body)

    def _match_prefix(self, request: SimRequest) -> Callable[[SimRequest], Reply] | None:
        """Routes registered as (method, '/prefix/*') take any path below the prefix."""
        for (method, path), handler in self.routes().items():
            if method == request.method and path.endswith("/*") and request.path.startswith(path[:-1]):
                return handler
        return None

    def error_body(self, status: int) -> Any:
        return {"code": status, "message": "simulated failure", "details": []}

    def _control(self, request: SimRequest) -> Reply:
        body = request.json() or {}
        if request.method == "GET" and request.path == "/_sim/requests":
            with self.lock:
                return json_reply(
                    200, {"total": sum(self.request_counts.values()), "byPath": dict(self.request_counts)}
                )
        if request.method == "POST" and request.path == "/_sim/faults":
            fault = (
                Fault(
                    status=body.get("status"),
                    retry_after=body.get("retryAfter"),
                    delay_seconds=float(body.get("delaySeconds", 0)),
                    remaining=body.get("count"),
                    body=body["body"].encode() if isinstance(body.get("body"), str) else None,
                )
                if body
                else None
            )
            self.set_fault(fault)
            return json_reply(200, {"fault": body or None})
        if request.method == "POST" and request.path == "/_sim/callbacks":
            with self.lock:
                self.callback_target = body if body.get("url") else None
            return json_reply(200, {"callbacks": self.callback_target})
        if request.method == "POST" and request.path == "/_sim/messages":
            try:
                message = self.add_from_control(body)
            except (KeyError, TypeError, ValueError) as exc:
                return json_reply(400, {"message": f"bad message: {exc}"})
            return json_reply(201, {"messageId": message.message_id})
        parts = request.path.split("/")
        if request.method == "POST" and len(parts) == 5 and parts[2] == "messages" and parts[4] == "callback":
            with self.lock:
                target = self.messages.get(parts[3])
            if target is None:
                return json_reply(404, {"message": "no such message"})
            status = body.get("status") or target.status_at(time.monotonic())
            part = str(body.get("part", ""))
            self.deliver_callbacks([(target, status, part)] * int(body.get("times", 1)))
            return json_reply(200, {"sent": status})
        return json_reply(404, {"message": "unknown control route"})


class _SimHandler(BaseHTTPRequestHandler):
    server: Simulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = SimRequest(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        status, headers, payload = self.server.handle(request)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 - stdlib names
