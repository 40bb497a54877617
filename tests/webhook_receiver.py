"""A webhook receiver on a loopback port, for tests and benchmarks: it records every request and
answers as its script says (a status code, or a pause longer than the sender waits)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int  # the status answered (0: the receiver stalled instead)
    at: float  # time.monotonic() when it arrived

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


# The script: given the number of the request (1, 2, ...) and its payload, a status code, or a
# negative number of seconds to stall before answering 200 (a timeout for the sender).
Script = Callable[[int, Any], int | float]


@dataclass
class Receiver:
    script: Script = lambda number, payload: 200
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    number = len(receiver.received) + 1
                    payload = json.loads(body) if body else None
                    answer = receiver.script(number, payload)
                    status = int(answer) if answer >= 0 else 0
                    receiver.received.append(
                        Received({k.lower(): v for k, v in self.headers.items()}, body, status, arrived)
                    )
                if answer < 0:
                    time.sleep(-answer)
                    status = 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if 200 <= r.answered < 300]
