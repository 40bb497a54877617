"""A webhook receiver for trying subscriptions locally: verifies each delivery's Standard Webhooks
signature with the `standardwebhooks` package, prints it, and answers 200 (401 when the signature,
the timestamp or the headers are wrong).

    python -m local.receiver --port 9000 --secret whsec_...

Subscribe it with `POST /v1/subscriptions {"url": "http://127.0.0.1:9000/"}` on the local stack
(which allows loopback targets); the secret is the one that answer shows. Tests use the class:
`WebhookReceiver(secret).start()`, then `.url`, `.received`, `.refused`, `.stop()`.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Delivery:
    """One verified delivery: its `webhook-id` and the JSON body."""

    webhook_id: str
    timestamp: str
    body: Any
    headers: dict[str, str]

    @property
    def data(self) -> dict[str, Any]:
        """The change: the body's `data` object (Standard Webhooks' payload shape), else the body."""
        if isinstance(self.body, dict):
            inner = self.body.get("data")
            return inner if isinstance(inner, dict) else self.body
        return {}

    def summary(self) -> str:
        data = self.data
        fields = [
            ("webhook-id", self.webhook_id),
            ("sequence", data.get("sequence", data.get("version"))),
            ("provider", data.get("provider")),
            ("message", data.get("messageId")),
            ("status", data.get("status")),
        ]
        return "delivery " + " ".join(f"{name}={value}" for name, value in fields)


class WebhookReceiver(ThreadingHTTPServer):
    """Verifies, records and prints each delivery POSTed to it (any path)."""

    daemon_threads = True

    def __init__(self, secret: str, host: str = "127.0.0.1", port: int = 0, echo: bool = False) -> None:
        self.webhook = Webhook(secret)
        self.echo = echo
        self.received: list[Delivery] = []
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _ReceiverHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(target=self.serve_forever, name="webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def take(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """Verify one delivery: (200, what was printed) or (401, why it was refused)."""
        lowered = {name.lower(): value for name, value in headers.items()}
        try:
            document = self.webhook.verify(body, lowered)
        except (WebhookVerificationError, ValueError, TypeError) as exc:
            # ValueError: a malformed signature header or body (the package raises what it meets).
            reason = f"refused webhook-id={lowered.get('webhook-id')}: {exc or type(exc).__name__}"
            with self._lock:
                self.refused.append(reason)
            return 401, reason
        delivery = Delivery(lowered["webhook-id"], lowered["webhook-timestamp"], document, lowered)
        with self._lock:
            self.received.append(delivery)
        line = delivery.summary()
        if self.echo:
            line += "\n" + json.dumps(document, indent=2)
        return 200, line


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: WebhookReceiver
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._answer(413, {"error": "too large"})
            self.close_connection = True
            return
        body = self.rfile.read(length)
        status, line = self.server.take(body, dict(self.headers.items()))
        print(line, file=sys.stdout if status == 200 else sys.stderr, flush=True)
        self._answer(status, {"ok": True} if status == 200 else {"error": "invalid signature"})

    def _answer(self, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.receiver", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--secret", required=True, help="the subscription's signing secret (whsec_...)")
    parser.add_argument("--echo", action="store_true", help="also print each verified body")
    arguments = parser.parse_args(argv)
    receiver = WebhookReceiver(arguments.secret, arguments.host, arguments.port, echo=arguments.echo)
    print(f"receiving webhooks on {receiver.url} (Ctrl-C stops it)", flush=True)
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
