"""Comapi's webhooks through the callbacks function on moto."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from local.gateway import LambdaContext
from local.simulators.comapi import ComapiSimulator
from tests.support.api import comapi_post, events_of, get, status_of
from tests.support.aws import api_event, table_items
from tests.support.payloads import COMAPI_MESSAGE_ID as MESSAGE_ID
from tests.support.payloads import comapi_envelope


def test_comapi_signed_webhooks_in_any_order_end_delivered(callbacks: Any, status_api: Any) -> None:
    batch = [comapi_envelope("message.delivered", "delivered", "e2"), comapi_envelope("message.sent", "sent", "e1")]
    code, answer = comapi_post(callbacks, batch)
    assert (code, answer) == (200, {"accepted": 2, "duplicates": 0, "ignored": 0})
    status = status_of(status_api, "comapi", MESSAGE_ID)
    assert (status["status"], status["providerEventAt"], status["version"]) == (
        "delivered",
        "2026-11-22T10:00:01.500000Z",
        1,
    )


def test_comapi_a_replayed_event_is_a_duplicate(callbacks: Any, status_api: Any) -> None:
    comapi_post(callbacks, comapi_envelope())
    code, answer = comapi_post(callbacks, comapi_envelope())
    assert (code, answer["duplicates"]) == (200, 1)
    assert status_of(status_api, "comapi", MESSAGE_ID)["version"] == 1


def test_comapi_inbound_and_click_events_are_acknowledged_and_not_stored(callbacks: Any) -> None:
    code, answer = comapi_post(
        callbacks, [comapi_envelope("message.inbound", "", "i1"), comapi_envelope("interaction.click", "", "c1")]
    )
    assert (code, answer) == (200, {"accepted": 0, "duplicates": 0, "ignored": 2})
    assert table_items() == []


def test_comapi_a_bad_signature_is_401_and_stores_nothing(callbacks: Any) -> None:
    code, answer = comapi_post(callbacks, comapi_envelope(), secret="forged")
    assert (code, answer["error"]["code"]) == (401, "Unauthorized")
    assert table_items() == []


def test_comapi_simulator_webhooks_retry_until_accepted(
    comapi_sim: ComapiSimulator, callbacks: Any, status_api: Any
) -> None:
    """The simulator's own signed webhooks, through a flaky endpoint, land after retries."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    attempts: list[int] = []

    class Flaky(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            attempts.append(1)
            if len(attempts) <= 2:
                code, payload = 500, b"{}"
            else:
                event = api_event(
                    "POST",
                    "/v1/callbacks/comapi",
                    body=raw,
                    headers={"X-Comapi-Signature": self.headers["X-Comapi-Signature"]},
                )
                result = callbacks.lambda_handler(event, LambdaContext("callbacks", 10))
                code, payload = result["statusCode"], result["body"].encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        comapi_sim.callback_target = {"url": f"http://127.0.0.1:{server.server_address[1]}/hook"}
        message = comapi_sim.add_message([("processing", 0.0), ("sent", 0.0)])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(d["status"] == 200 for d in comapi_sim.deliveries):
            time.sleep(0.05)
    finally:
        server.shutdown()
    assert [d["status"] for d in comapi_sim.deliveries][:3] == [500, 500, 200]
    assert status_of(status_api, "comapi", message.message_id)["status"] == "sent"


def test_comapi_a_batch_with_one_bad_element_stores_the_others(callbacks: Any, status_api: Any) -> None:
    other = comapi_envelope("message.sent", "sent", "e3")
    other["payload"]["id"] = "0aee96a8-09c9-4192-bf6d-c5f20a323956"
    bad = {k: v for k, v in comapi_envelope("message.failed", "failed", "e2").items() if k != "eventId"}
    code, answer = comapi_post(callbacks, [comapi_envelope("message.delivered", "delivered", "e1"), bad, other])
    assert (code, answer) == (200, {"accepted": 2, "duplicates": 0, "ignored": 1})
    assert status_of(status_api, "comapi", MESSAGE_ID)["status"] == "delivered"
    assert status_of(status_api, "comapi", other["payload"]["id"])["status"] == "sent"
    assert len(events_of(status_api, "comapi", MESSAGE_ID)) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps({**comapi_envelope(), "eventId": None}).encode(),
    ],
    ids=["not-json", "empty-array", "nested-100000", "single-invalid"],
)
def test_comapi_a_body_with_nothing_usable_is_still_400(callbacks: Any, body: bytes) -> None:
    code, answer = comapi_post(callbacks, body)
    assert (code, answer["error"]["code"]) == (400, "InvalidCallback")
    assert table_items() == []


def test_comapi_an_unusable_update_time_stands_as_received_and_is_kept_in_the_detail(
    callbacks: Any, status_api: Any
) -> None:
    event = comapi_envelope()
    event["payload"]["details"]["channelStatus"]["sms"]["updatedOn"] = "0001-01-01T00:00:00+01:00"
    event["payload"]["updatedOn"] = "0001-01-01T00:00:00+01:00"
    del event["timestamp"]
    code, answer = comapi_post(callbacks, event)
    assert (code, answer) == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    (stored,) = events_of(status_api, "comapi", MESSAGE_ID)
    assert stored["providerEventAt"] == stored["receivedAt"]
    assert stored["providerDetail"] == (
        "updatedOn '0001-01-01T00:00:00+01:00' not usable; updatedOn '0001-01-01T00:00:00+01:00' not usable"
    )


def test_comapi_a_message_known_only_from_webhooks_keeps_their_metadata_and_reference(
    callbacks: Any, status_api: Any, env: pytest.MonkeyPatch
) -> None:
    env.setenv("REFERENCE_KEY", "orderId")
    sent, delivered = comapi_envelope("message.sent", "sent", "e1"), comapi_envelope()
    for event in (sent, delivered):
        event["payload"]["metadata"] = {"orderId": "order-1234", "items": [1, 2]}
    code, answer = comapi_post(callbacks, [delivered, sent])
    assert (code, answer) == (200, {"accepted": 2, "duplicates": 0, "ignored": 0})
    status = status_of(status_api, "comapi", MESSAGE_ID)
    assert (status["status"], status["metadata"], status["reference"]) == (
        "delivered",
        {"orderId": "order-1234", "items": "[1,2]"},
        "order-1234",
    )
    _, _, listed = get(status_api, "/v1/messages", reference="order-1234")
    assert [m["messageId"] for m in listed["messages"]] == [MESSAGE_ID]
