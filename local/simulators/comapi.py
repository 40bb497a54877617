"""Comapi (dotdigital Enterprise Communications) simulator, from its public docs (docs/providers.md#comapi).

- POST /apispaces/{space}/messages        -> 201 the message resource (status processing, or failed)
- POST /apispaces/{space}/messages/batch  -> 202 [{"index", "messageId"}, ...]
- GET  /apispaces/{space}/messages/{id}   -> the message: status, statusDetails, sentOn, expiresOn, _updatedOn,
  and the metadata given at send time
- Auth: Authorization: Bearer <token>.
- Webhooks: envelopes {"eventId", "accountId", "apiSpaceId", "name": "message.<status>", "payload": {...,
  "metadata": <as given at send time>}, "revision", "etag", "timestamp"}, signed with
  X-Comapi-Signature (hex HMAC-SHA1 of the raw body with the webhook secret); an array of
  envelopes when {"batch": true}. 2xx accepted, 400 and 401 not retried, anything else retried
  on Comapi's schedule, shortened by `retry_scale`.

The outcome is chosen by the phone number (OUTCOME_BY_PHONE; otherwise sent, then delivered).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from local.simulators.base import Plan, Reply, SimMessage, SimRequest, Simulator, json_reply, local_credentials

OUTCOME_BY_PHONE: dict[str, list[str]] = {
    "447700900001": ["failed"],
    "447700900002": ["sent", "expired"],
    "447700900003": ["filtered"],
    "447700900004": ["sent", "delivered", "read"],
    "447700900005": ["retrying", "sent"],  # never gets a final status
    "447700900006": ["sent", "undeliverable_queued"],  # a word the docs do not list
}
DEFAULT_OUTCOME = ["sent", "delivered"]
# Statuses with a documented webhook event (message.<status>).
WEBHOOK_STATUSES = frozenset({"sent", "delivered", "read", "expired", "failed"})
# Comapi's retry schedule, in seconds (then 4 h until 24 h have passed).
RETRY_SCHEDULE = [5, 5, 30, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200]


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class ComapiSimulator(Simulator):
    name = "comapi"
    LOCAL_CREDENTIALS: ClassVar[dict[str, str]] = local_credentials("comapi", "API_SPACE_ID", "TOKEN", "WEBHOOK_SECRET")
    SETTINGS: ClassVar[dict[str, str]] = {
        "api_space_id": "COMAPI_API_SPACE_ID",
        "token": "COMAPI_TOKEN",
        "webhook_secret": "COMAPI_WEBHOOK_SECRET",
    }
    MISSING_CREDENTIALS: ClassVar[tuple[int, Any]] = (
        401,
        {"message": "Authorization has been denied for this request."},
    )

    def __init__(
        self, api_space_id: str, token: str, webhook_secret: str, retry_scale: float = 0.01, **options: Any
    ) -> None:
        """`options`: the port, step_seconds and tick_seconds of `Simulator`."""
        super().__init__(**options)
        self.api_space_id = api_space_id
        self.token = token
        self.webhook_secret = webhook_secret
        self.retry_scale = retry_scale
        self.deliveries: list[dict[str, Any]] = []
        self._events: dict[tuple[str, str], dict[str, Any]] = {}

    @property
    def messages_path(self) -> str:
        return f"/apispaces/{self.api_space_id}/messages"

    def credentials(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    def routes(self) -> dict[tuple[str, str], Any]:
        return {
            ("POST", self.messages_path): self._send,
            ("POST", self.messages_path + "/batch"): self._send_batch,
            ("GET", self.messages_path + "/*"): self._get,
        }

    def plan_for(self, phone: str | None) -> Plan:
        steps = OUTCOME_BY_PHONE.get((phone or "").lstrip("+"), DEFAULT_OUTCOME)
        if steps == ["failed"]:
            return [("failed", 0.0)]  # refused at once: the send response says so
        return [("processing", 0.0)] + [(word, self.step_seconds * (n + 1)) for n, word in enumerate(steps)]

    def _create(self, request: dict[str, Any]) -> SimMessage | None:
        to = request.get("to")
        if not isinstance(to, dict) or not (to.get("phoneNumber") or to.get("profileId")):
            return None
        phone = str(to.get("phoneNumber") or "")
        return self.add_message(
            self.plan_for(phone), phone=phone, body=request.get("body"), metadata=request.get("metadata")
        )

    def _send(self, request: SimRequest) -> Reply:
        body = request.json()
        message = self._create(body) if isinstance(body, dict) else None
        if message is None:
            return json_reply(400, {"validationFailures": [{"paramName": "to", "message": "to is required"}]})
        return json_reply(201, self.resource(message))

    def _send_batch(self, request: SimRequest) -> Reply:
        body = request.json()
        if not isinstance(body, list) or not body:
            return json_reply(400, {"validationFailures": [{"paramName": "body", "message": "an array is required"}]})
        created = [self._create(item) if isinstance(item, dict) else None for item in body]
        if any(message is None for message in created):
            return json_reply(400, {"validationFailures": [{"paramName": "to", "message": "to is required"}]})
        return json_reply(202, [{"index": n, "messageId": m.message_id} for n, m in enumerate(created) if m])

    def _get(self, request: SimRequest) -> Reply:
        with self.lock:
            message = self.messages.get(request.path.rsplit("/", 1)[-1])
        if message is None:
            return json_reply(404, {"message": "Message not found"})
        return json_reply(200, self.resource(message))

    def resource(self, message: SimMessage) -> dict[str, Any]:
        status = message.status_at(time.monotonic())
        updated = message.reached_at(message.plan, status)
        return {
            "messageId": message.message_id,
            "_createdOn": iso_ms(message.created_at),
            "_updatedOn": iso_ms(updated),
            "_createdBy": "access:3dd1558a-9db3-406a-8460-cbe5100a7628",
            "_updatedBy": "access:3dd1558a-9db3-406a-8460-cbe5100a7628",
            "to": {"phoneNumber": message.data.get("phone")},
            "body": message.data.get("body"),
            "rules": ["sms"],
            "sentOn": iso_ms(message.created_at),
            "expiresOn": iso_ms(message.created_at + timedelta(days=1)),
            "status": status,
            "statusDetails": {"channelId": "sms"},
            "metadata": message.data.get("metadata") or {},
        }

    # Webhooks --------------------------------------------------------------------------------

    def envelope(self, message: SimMessage, status: str) -> dict[str, Any]:
        """The one event Comapi emits for a status change: a redelivery carries the same eventId."""
        key = (message.message_id, status)
        with self.lock:
            if key not in self._events:
                self._events[key] = self._new_envelope(message, status)
            return self._events[key]

    def _new_envelope(self, message: SimMessage, status: str) -> dict[str, Any]:
        updated = iso_ms(message.reached_at(message.plan, status))
        return {
            "eventId": str(uuid.uuid4()),
            "accountId": "12345",
            "apiSpaceId": self.api_space_id,
            "name": f"message.{status}",
            "payload": {
                "id": message.message_id,
                "details": {
                    "channel": "sms",
                    "additionalInfo": {},
                    "channelStatus": {"sms": {"status": status, "details": {}, "updatedOn": updated}},
                },
                "channelData": {"sms": {"from": "Comapi"}},
                "metadata": message.data.get("metadata") or {},
                "updatedOn": updated,
            },
            "revision": 2,
            "etag": uuid.uuid4().hex,
            "timestamp": iso_ms(datetime.now(UTC)),
        }

    def send_callback(self, message: SimMessage, status: str, part: str = "") -> None:
        self.deliver_callbacks([(message, status, part)])

    def deliver_callbacks(self, due: list[tuple[SimMessage, str, str]]) -> None:
        with self.lock:
            batch = bool((self.callback_target or {}).get("batch"))
        envelopes = [self.envelope(message, status) for message, status, _ in due if status in WEBHOOK_STATUSES]
        groups = [envelopes] if batch and envelopes else [[envelope] for envelope in envelopes]
        for group in groups:
            body = json.dumps(group if batch else group[0]).encode()
            self._deliver(body, attempt=0)

    def _deliver(self, body: bytes, attempt: int) -> None:
        headers = {"Content-Type": "application/json", "X-Comapi-Signature": sign(self.webhook_secret, body)}
        status = self.post_callback("POST", headers, body)
        with self.lock:
            self.deliveries.append({"attempt": attempt, "status": status})
        retried = status is None or not (200 <= status < 300 or status in (400, 401))
        if retried and attempt < len(RETRY_SCHEDULE):
            timer = threading.Timer(RETRY_SCHEDULE[attempt] * self.retry_scale, self._deliver, (body, attempt + 1))
            timer.daemon = True
            timer.start()
