"""Callbacks of Comapi, GovDelivery and USAJOBS through the callbacks function on moto."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from local.gateway import LambdaContext
from local.simulators.comapi import ComapiSimulator
from local.simulators.govdelivery import GovdeliverySimulator
from tests.conftest import TEST_ENV
from tests.integration.conftest import table_items
from tests.support import api_event, invoke
from tests.unit.test_provider_callbacks import envelope

MESSAGE_ID = "d8e296bb-97c4-4495-b98f-1e32e0b11628"


def comapi_post(callbacks: Any, body: Any, secret: str = TEST_ENV["COMAPI_WEBHOOK_SECRET"]) -> tuple[int, Any]:
    raw = json.dumps(body).encode()
    signature = hmac.new(secret.encode(), raw, hashlib.sha1).hexdigest()
    code, _, answer = invoke(
        callbacks, api_event("POST", "/v1/callbacks/comapi", body=raw, headers={"X-Comapi-Signature": signature})
    )
    return code, answer


def status_of(status_api: Any, provider: str, message_id: str) -> dict[str, Any]:
    code, _, body = invoke(status_api, api_event("GET", f"/v1/messages/{provider}/{message_id}"))
    assert code == 200, body
    result: dict[str, Any] = body
    return result


def test_comapi_signed_webhooks_in_any_order_end_delivered(callbacks: Any, status_api: Any) -> None:
    batch = [envelope("message.delivered", "delivered", "e2"), envelope("message.sent", "sent", "e1")]
    code, answer = comapi_post(callbacks, batch)
    assert (code, answer) == (200, {"accepted": 2, "duplicates": 0, "ignored": 0})
    status = status_of(status_api, "comapi", MESSAGE_ID)
    assert (status["status"], status["providerEventAt"], status["version"]) == (
        "delivered",
        "2026-11-22T10:00:01.500000Z",
        1,
    )


def test_comapi_a_replayed_event_is_a_duplicate(callbacks: Any, status_api: Any) -> None:
    comapi_post(callbacks, envelope())
    code, answer = comapi_post(callbacks, envelope())
    assert (code, answer["duplicates"]) == (200, 1)
    assert status_of(status_api, "comapi", MESSAGE_ID)["version"] == 1


def test_comapi_inbound_and_click_events_are_acknowledged_and_not_stored(callbacks: Any) -> None:
    code, answer = comapi_post(
        callbacks, [envelope("message.inbound", "", "i1"), envelope("interaction.click", "", "c1")]
    )
    assert (code, answer) == (200, {"accepted": 0, "duplicates": 0, "ignored": 2})
    assert table_items() == []


def test_comapi_a_bad_signature_is_401_and_stores_nothing(callbacks: Any) -> None:
    code, answer = comapi_post(callbacks, envelope(), secret="forged")
    assert (code, answer["error"]["code"]) == (401, "Unauthorized")
    assert table_items() == []


def tms_callback(
    callbacks: Any, fields: dict[str, str], token: str = TEST_ENV["GOVDELIVERY_CALLBACK_TOKEN"], as_json: bool = False
) -> tuple[int, Any]:
    body = json.dumps(fields) if as_json else urlencode(fields)
    content_type = "application/json" if as_json else "application/x-www-form-urlencoded"
    event = api_event(
        "POST", "/v1/callbacks/govdelivery", body=body, headers={"Content-Type": content_type}, query={"token": token}
    )
    code, _, answer = invoke(callbacks, event)
    return code, answer


def tms_fields(sim: GovdeliverySimulator, message_id: str, status: str) -> dict[str, str]:
    return {
        "status": status,
        "message_type": "sms",
        "message_url": f"{sim.url}/messages/sms/{message_id}",
        "recipient_url": f"{sim.url}/messages/sms/{message_id}/recipients/1",
        "sid": "b2c8a7f1",
        "completed_at": "2026-11-22T10:00:05Z",
    }


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_govdelivery_callback_is_confirmed_by_fetching_the_message(
    callbacks: Any, status_api: Any, govdelivery_sim: GovdeliverySimulator, as_json: bool
) -> None:
    message = govdelivery_sim.add_sms(["+15555550000", "+15555550001"], silent=True)
    time.sleep(0.2)
    # The callback claims one recipient's `sent`; TMS says one of two failed.
    code, answer = tms_callback(callbacks, tms_fields(govdelivery_sim, message.message_id, "sent"), as_json=as_json)
    assert (code, answer["accepted"]) == (200, 1)
    status = status_of(status_api, "govdelivery", message.message_id)
    assert status["status"] == "partially_delivered"
    assert status["recipients"]["sent"] == 1
    assert status["recipients"]["failed"] == 1
    # Only what TMS said: nothing of the callback's claim is in the confirmed status.
    assert status["providerDetail"] == "total 2, sent 1, failed 1"


def test_govdelivery_a_forged_status_cannot_beat_what_tms_says(
    callbacks: Any, status_api: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    message = govdelivery_sim.add_sms(["+15555550005"], silent=True)  # TMS: still sending
    code, _ = tms_callback(callbacks, tms_fields(govdelivery_sim, message.message_id, "sent"))
    assert code == 200
    assert status_of(status_api, "govdelivery", message.message_id)["status"] in ("accepted", "sending")


def test_govdelivery_a_callback_for_a_message_tms_does_not_know_is_ignored(
    callbacks: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    code, answer = tms_callback(callbacks, tms_fields(govdelivery_sim, "424242", "sent"))
    assert (code, answer) == (200, {"accepted": 0, "duplicates": 0, "ignored": 1})
    assert table_items() == []


@pytest.mark.parametrize("token", ["", "guess"], ids=["missing", "wrong"])
def test_govdelivery_a_bad_token_is_401_and_nothing_is_fetched_or_stored(
    callbacks: Any, govdelivery_sim: GovdeliverySimulator, token: str
) -> None:
    code, answer = tms_callback(callbacks, tms_fields(govdelivery_sim, "165532", "sent"), token=token)
    assert (code, answer["error"]["code"]) == (401, "Unauthorized")
    assert sum(govdelivery_sim.request_counts.values()) == 0
    assert table_items() == []


def test_govdelivery_confirmation_failing_answers_503_so_tms_retries(
    callbacks: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    from local.simulators.base import Fault

    govdelivery_sim.set_fault(Fault(status=502))
    code, answer = tms_callback(callbacks, tms_fields(govdelivery_sim, "165532", "sent"))
    assert (code, answer["error"]["code"]) == (503, "ProviderUnavailable")
    assert table_items() == []


def test_usajobs_callbacks_are_not_supported(callbacks: Any) -> None:
    code, _, answer = invoke(callbacks, api_event("POST", "/v1/callbacks/usajobs", body={"responseId": "x"}))
    assert (code, answer["error"]["code"]) == (404, "CallbacksNotSupported")
    assert table_items() == []


@pytest.mark.parametrize("provider", ["comapi", "govdelivery", "usajobs"])
def test_put_is_only_for_wunderkind(callbacks: Any, provider: str) -> None:
    code, _, answer = invoke(callbacks, api_event("PUT", f"/v1/callbacks/{provider}", body={}))
    assert code in (400, 404)
    assert table_items() == []
    assert answer["error"]["code"] in ("BadRequest", "CallbacksNotSupported")


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


def events_of(status_api: Any, provider: str, message_id: str) -> list[dict[str, Any]]:
    code, _, body = invoke(status_api, api_event("GET", f"/v1/messages/{provider}/{message_id}/events"))
    assert code == 200, body
    events: list[dict[str, Any]] = body["events"]
    return events


def test_comapi_a_batch_with_one_bad_element_stores_the_others(callbacks: Any, status_api: Any) -> None:
    other = envelope("message.sent", "sent", "e3")
    other["payload"]["id"] = "0aee96a8-09c9-4192-bf6d-c5f20a323956"
    bad = {k: v for k, v in envelope("message.failed", "failed", "e2").items() if k != "eventId"}
    code, answer = comapi_post(callbacks, [envelope("message.delivered", "delivered", "e1"), bad, other])
    assert (code, answer) == (200, {"accepted": 2, "duplicates": 0, "ignored": 1})
    assert status_of(status_api, "comapi", MESSAGE_ID)["status"] == "delivered"
    assert status_of(status_api, "comapi", other["payload"]["id"])["status"] == "sent"
    assert len(events_of(status_api, "comapi", MESSAGE_ID)) == 1


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b"[" + b"7" * 5000 + b"]", json.dumps({**envelope(), "eventId": None}).encode()],
    ids=["not-json", "empty-array", "integer-5000-digits", "single-invalid"],
)
def test_comapi_a_body_with_nothing_usable_is_still_400(callbacks: Any, body: bytes) -> None:
    signature = hmac.new(TEST_ENV["COMAPI_WEBHOOK_SECRET"].encode(), body, hashlib.sha1).hexdigest()
    code, _, answer = invoke(
        callbacks, api_event("POST", "/v1/callbacks/comapi", body=body, headers={"X-Comapi-Signature": signature})
    )
    assert (code, answer["error"]["code"]) == (400, "InvalidCallback")
    assert table_items() == []


def test_comapi_an_unusable_update_time_stands_as_received_and_is_kept_in_the_detail(
    callbacks: Any, status_api: Any
) -> None:
    event = envelope()
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


def test_govdelivery_a_callback_tms_does_not_confirm_changes_nothing(
    callbacks: Any, status_api: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    message = govdelivery_sim.add_sms(["+15555550005"], silent=True)  # TMS: never leaves sending
    time.sleep(0.2)
    fields = {**tms_fields(govdelivery_sim, message.message_id, "failed"), "error_message": "Number unreachable"}
    assert tms_callback(callbacks, fields)[1]["accepted"] == 1
    before = status_of(status_api, "govdelivery", message.message_id)
    # Another unconfirmed claim with other text: kept in the history (a new report, so accepted),
    # but TMS still says the same, so the status does not change.
    code, answer = tms_callback(callbacks, {**fields, "error_message": "Carrier blocked it"})
    assert (code, answer) == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    after = status_of(status_api, "govdelivery", message.message_id)
    assert (after["version"], after["providerDetail"]) == (before["version"], before["providerDetail"])
    assert "Number unreachable" not in (after["providerDetail"] or "")
