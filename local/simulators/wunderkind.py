"""Wunderkind Text Message API simulator, from Wunderkind's public docs (docs/providers.md#wunderkind).

- POST /text/message/send   {"phone" | "email", "text", "sendPurpose", "callbackData"} -> {"messageId"}
- GET  /text/message/status?messageId=<id>  -> {"status": "..."}; kept 7 days (`retention_seconds`)
- Auth: X-Client-ID and X-Client-Secret on both; errors are {"code", "message", "details": []}
  with 401, 403, 429, other 4xx and 5xx.
- Callbacks: POST or PUT to the configured URL with the configured static headers, payload
  {"messageID", "status", "phone", "email", "callbackData"} (callbackData as given at send time),
  one attempt, no retries.

The outcome is chosen by the phone number (OUTCOME_BY_PHONE; every other number is delivered).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from local.simulators.base import Reply, SimMessage, SimRequest, Simulator, json_reply, local_credentials

OUTCOME_BY_PHONE: dict[str, str | None] = {
    "+15005550001": "FAILED_TO_SEND",
    "+15005550002": "FAILED_TO_DELIVERY",
    "+15005550003": "NOT_FOUND",
    "+15005550004": "NOT_SUBSCRIBED",
    "+15005550005": "FAILED_TO_ MATCH",  # as the docs print it, space included
    "+15005550006": None,  # never leaves SENDING: for deadline and expiry tests
    "+15005550007": "QUEUED_AT_CARRIER",  # a word the docs do not list
}
REJECTIONS = {"NOT_FOUND", "NOT_SUBSCRIBED", "FAILED_TO_ MATCH"}
SEVEN_DAYS = 7 * 24 * 3600.0


class WunderkindSimulator(Simulator):
    name = "wunderkind"
    LOCAL_CREDENTIALS: ClassVar[dict[str, str]] = local_credentials(
        "wunderkind", "CLIENT_ID", "CLIENT_SECRET", "CALLBACK_ID", "CALLBACK_SECRET"
    )
    SETTINGS: ClassVar[dict[str, str]] = {
        "client_id": "WUNDERKIND_CLIENT_ID",
        "client_secret": "WUNDERKIND_CLIENT_SECRET",
    }
    MISSING_CREDENTIALS: ClassVar[tuple[int, Any]] = (401, {"code": 401, "message": "Unauthorized", "details": []})
    WRONG_CREDENTIALS: ClassVar[tuple[int, Any] | None] = (403, {"code": 403, "message": "Forbidden", "details": []})

    def callback_target_for(self, callback_url: str, settings: Mapping[str, str]) -> dict[str, Any] | None:
        # The static headers the customer configured at Wunderkind.
        headers = {
            settings.get("WUNDERKIND_CALLBACK_HEADER_ID", "X-Client-ID"): settings["WUNDERKIND_CALLBACK_ID"],
            settings.get("WUNDERKIND_CALLBACK_HEADER_SECRET", "X-Client-Secret"): settings[
                "WUNDERKIND_CALLBACK_SECRET"
            ],
        }
        return {"url": callback_url, "method": "POST", "headers": headers}

    def __init__(
        self, client_id: str, client_secret: str, retention_seconds: float = SEVEN_DAYS, **options: Any
    ) -> None:
        """`options`: the port, step_seconds and tick_seconds of `Simulator`."""
        super().__init__(**options)
        self.client_id = client_id
        self.client_secret = client_secret
        self.retention_seconds = retention_seconds

    def credentials(self) -> dict[str, str]:
        return {"x-client-id": self.client_id, "x-client-secret": self.client_secret}

    def routes(self) -> dict[tuple[str, str], Any]:
        return {
            ("POST", "/text/message/send"): self._send,
            ("GET", "/text/message/status"): self._status,
        }

    def plan_for(self, phone: str | None) -> list[tuple[str, float]]:
        step = self.step_seconds
        outcome = OUTCOME_BY_PHONE.get(phone or "", "DELIVERED")
        if outcome is None:
            return [("PENDING_TO_SEND", 0.0), ("SENDING", step)]
        if outcome in REJECTIONS:
            return [("PENDING_TO_SEND", 0.0), (outcome, step)]
        return [("PENDING_TO_SEND", 0.0), ("SENDING", step), (outcome, 2 * step)]

    def _send(self, request: SimRequest) -> Reply:
        body = request.json()
        if not isinstance(body, dict) or not (body.get("phone") or body.get("email")) or not body.get("text"):
            return json_reply(400, {"code": 400, "message": "phone or email, and text, are required", "details": []})
        phone = body.get("phone")
        message = self.add_message(
            self.plan_for(phone), phone=phone, email=body.get("email"), callbackData=body.get("callbackData")
        )
        return json_reply(200, {"messageId": message.message_id})

    def _status(self, request: SimRequest) -> Reply:
        message_id = (request.query.get("messageId") or [""])[0]
        if not message_id:
            return json_reply(400, {"code": 400, "message": "messageId is required", "details": []})
        now = time.monotonic()
        with self.lock:
            message = self.messages.get(message_id)
        if message is None or now - message.created > self.retention_seconds:
            return json_reply(404, {"code": 404, "message": "message not found", "details": []})
        return json_reply(200, {"status": message.status_at(now)})

    def send_callback(self, message: SimMessage, status: str, part: str = "") -> None:
        with self.lock:
            method = str((self.callback_target or {}).get("method", "POST")).upper()
        payload = {
            "messageID": message.message_id,
            "status": status,
            "phone": message.data.get("phone"),
            "email": message.data.get("email"),
            "callbackData": message.data.get("callbackData"),
        }
        self.post_callback(method, {"Content-Type": "application/json"}, json.dumps(payload).encode())
