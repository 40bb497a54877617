"""USAJOBS Text Messaging API simulator, from its public docs (docs/providers.md#usajobs).

- POST /api/textmessaging/sendmessage {"alternateDocumentID", "message" (<= 620 chars)} -> {"responseId"}
- POST /api/textmessaging/status {"responseId"} -> {"responseId", "deliveryStatus", "deliveryStatusDetails",
  "successfulSegments", "failedSegments"}; 400 with ResponseIDEmpty or TextMessageNotFound
- Auth: X-Api-Key. No callbacks, no pending state: until a receipt exists the status call
  answers TextMessageNotFound.

The outcome is chosen by the end of alternateDocumentID (OUTCOME_BY_SUFFIX; otherwise delivered).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from local.simulators.base import Plan, Reply, SimRequest, Simulator, json_reply, local_credentials

NOT_FOUND = "TextMessageNotFound"
OUTCOME_BY_SUFFIX: dict[str, str | None] = {
    "-optout": "Failed|4007: The Destination/To number has opted out of receiving messages from you",
    "-badnumber": "Failed|4003: Message failed to deliver due to unsupported destination",
    "-carrier": "Failed|4105: Carrier rejected the message",  # a code the docs do not list yet
    "-lost": None,  # never gets a receipt: for the grace period
}
DELIVERED = "Delivered|2000: Message Delivered Successfully"
MAX_MESSAGE_LENGTH = 620


def error(code: str, message: str, target: str = "responseID") -> Reply:
    detail = {"code": code, "message": message, "target": target}
    return json_reply(400, {"error": {"code": "BadRequest", "message": message, "target": target, "details": [detail]}})


class UsajobsSimulator(Simulator):
    name = "usajobs"
    LOCAL_CREDENTIALS: ClassVar[dict[str, str]] = local_credentials("usajobs", "API_KEY")
    SETTINGS: ClassVar[dict[str, str]] = {"api_key": "USAJOBS_API_KEY"}
    MISSING_CREDENTIALS: ClassVar[tuple[int, Any]] = (
        401,
        {"error": {"code": "Unauthorized", "message": "Invalid API key", "target": "X-Api-Key"}},
    )

    def callback_target_for(self, callback_url: str, settings: Mapping[str, str]) -> dict[str, Any] | None:
        return None  # USAJOBS has no callbacks

    def __init__(self, api_key: str, **options: Any) -> None:
        """`options`: the port, step_seconds and tick_seconds of `Simulator`."""
        super().__init__(**options)
        self.api_key = api_key

    def credentials(self) -> dict[str, str]:
        return {"x-api-key": self.api_key}

    def routes(self) -> dict[tuple[str, str], Any]:
        return {
            ("POST", "/api/textmessaging/sendmessage"): self._send,
            ("POST", "/api/textmessaging/status"): self._status,
        }

    def plan_for(self, document_id: str) -> Plan:
        outcome = next((o for suffix, o in OUTCOME_BY_SUFFIX.items() if document_id.endswith(suffix)), DELIVERED)
        if outcome is None:
            return [(NOT_FOUND, 0.0)]
        return [(NOT_FOUND, 0.0), (outcome, self.step_seconds)]

    def _send(self, request: SimRequest) -> Reply:
        body = request.json()
        if not isinstance(body, dict) or not body.get("alternateDocumentID"):
            return error(
                "AlternateDocumentIDEmpty", "'Alternate Document ID' must not be empty.", "alternateDocumentID"
            )
        text = str(body.get("message") or "")
        if not text or len(text) > MAX_MESSAGE_LENGTH:
            return error("MessageInvalid", f"'Message' must be 1 to {MAX_MESSAGE_LENGTH} characters.", "message")
        document_id = str(body["alternateDocumentID"])
        message = self.add_message(self.plan_for(document_id), segments=math.ceil(len(text) / 160))
        return json_reply(200, {"responseId": message.message_id})

    def _status(self, request: SimRequest) -> Reply:
        body = request.json()
        response_id = body.get("responseId") if isinstance(body, dict) else None
        if not response_id:
            return error("ResponseIDEmpty", "'Response ID' must not be empty.")
        with self.lock:
            message = self.messages.get(str(response_id))
        state = message.status_at(time.monotonic()) if message else NOT_FOUND
        if state == NOT_FOUND or message is None:
            return error(NOT_FOUND, "A text message was not found for the provided response Id.")
        word, details = state.split("|", 1)
        segments = int(message.data.get("segments", 1))
        delivered = word == "Delivered"
        return json_reply(
            200,
            {
                "responseId": message.message_id,
                "deliveryStatus": word,
                "deliveryStatusDetails": details,
                "successfulSegments": segments if delivered else 0,
                "failedSegments": 0 if delivered else segments,
            },
        )
