"""The Wunderkind adapter against the simulator over real HTTP: every documented answer."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from local.simulators.base import Fault
from local.simulators.wunderkind import OUTCOME_BY_PHONE, WunderkindSimulator
from tests.conftest import TEST_ENV
from tests.support.adapters import wunderkind_adapter
from tests.support.payloads import NOW
from textstatus.errors import (
    ProviderBadResponseError,
    ProviderRejectedRequestError,
    ProviderThrottledError,
    ProviderUnavailableError,
)
from textstatus.providers.http import HttpSettings
from textstatus.status import Reason, Status

CLIENT_ID = TEST_ENV["WUNDERKIND_CLIENT_ID"]
CLIENT_SECRET = TEST_ENV["WUNDERKIND_CLIENT_SECRET"]


@pytest.fixture
def sim() -> Iterator[WunderkindSimulator]:
    simulator = WunderkindSimulator(CLIENT_ID, CLIENT_SECRET, step_seconds=0.02, tick_seconds=0.01).start()
    yield simulator
    simulator.stop()


def sent_to(sim: WunderkindSimulator, phone: str) -> str:
    import requests

    response = requests.post(
        f"{sim.url}/text/message/send",
        json={"phone": phone, "text": "Your appointment is tomorrow", "sendPurpose": "TRANSACTIONAL"},
        headers={"X-Client-ID": CLIENT_ID, "X-Client-Secret": CLIENT_SECRET},
        timeout=5,
    )
    assert response.status_code == 200
    message_id = response.json()["messageId"]
    assert isinstance(message_id, str)
    return message_id


EXPECTED_FINAL = {
    "+15551230000": (Status.DELIVERED, None),
    "+15005550001": (Status.FAILED, Reason.PROVIDER_ERROR),
    "+15005550002": (Status.UNDELIVERED, Reason.CARRIER_ERROR),
    "+15005550003": (Status.REJECTED, Reason.NO_SUBSCRIPTION),
    "+15005550004": (Status.REJECTED, Reason.NOT_SUBSCRIBED),
    "+15005550005": (Status.REJECTED, Reason.NO_MATCH),
    "+15005550007": (None, Reason.UNKNOWN),
}


@pytest.mark.parametrize(("phone", "expected"), EXPECTED_FINAL.items())
def test_each_outcome_the_provider_reports_maps_to_its_normalized_status(
    sim: WunderkindSimulator, phone: str, expected: tuple[Status | None, Reason | None]
) -> None:
    adapter = wunderkind_adapter(sim)
    message_id = sent_to(sim, phone)
    first = adapter.fetch_status(message_id, NOW)
    assert first is not None
    assert first.status is Status.ACCEPTED
    time.sleep(0.08)
    final = adapter.fetch_status(message_id, NOW)
    assert final is not None
    assert (final.status, final.reason) == expected
    assert final.provider_status == (OUTCOME_BY_PHONE.get(phone) or "DELIVERED")
    assert final.event_at == NOW


def test_an_id_the_provider_does_not_hold_is_none(sim: WunderkindSimulator) -> None:
    assert wunderkind_adapter(sim).fetch_status("0b5e1d8c-0000-4000-8000-000000000000", NOW) is None


def test_status_past_retention_is_gone(sim: WunderkindSimulator) -> None:
    message_id = sent_to(sim, "+15551230000")
    sim.retention_seconds = 0.0
    time.sleep(0.01)
    assert wunderkind_adapter(sim).fetch_status(message_id, NOW) is None


def test_wrong_credentials_are_a_rejected_request(sim: WunderkindSimulator) -> None:
    with pytest.raises(ProviderRejectedRequestError):
        wunderkind_adapter(sim, WUNDERKIND_CLIENT_SECRET="not-the-secret").fetch_status(
            sent_to(sim, "+15551230000"), NOW
        )


@pytest.mark.parametrize(("retry_after", "expected"), [("12", 12.0), (None, 10.0)])
def test_429_is_throttling_with_its_retry_after(
    sim: WunderkindSimulator, retry_after: str | None, expected: float
) -> None:
    sim.set_fault(Fault(status=429, retry_after=float(retry_after) if retry_after else None))
    with pytest.raises(ProviderThrottledError) as caught:
        wunderkind_adapter(sim).fetch_status("any", NOW)
    assert caught.value.retry_after == expected


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_unavailable(sim: WunderkindSimulator, status: int) -> None:
    sim.set_fault(Fault(status=status))
    with pytest.raises(ProviderUnavailableError):
        wunderkind_adapter(sim).fetch_status("any", NOW)


def test_a_slow_answer_times_out(sim: WunderkindSimulator) -> None:
    sim.set_fault(Fault(delay_seconds=0.5, remaining=1))
    with pytest.raises(ProviderUnavailableError):
        wunderkind_adapter(sim, HttpSettings(connect_timeout=1, read_timeout=0.1, pool_size=4)).fetch_status("any", NOW)


@pytest.mark.parametrize(
    "body", [b"<html>", b'{"status": ""}', b'{"state": "DELIVERED"}', b"[1]", b'{"status": "DELIV']
)
def test_a_200_without_a_readable_status_is_a_bad_response(sim: WunderkindSimulator, body: bytes) -> None:
    sim.set_fault(Fault(status=200, body=body))
    with pytest.raises(ProviderBadResponseError):
        wunderkind_adapter(sim).fetch_status("any", NOW)


def test_connection_refused_is_unavailable() -> None:
    assert TEST_ENV["WUNDERKIND_BASE_URL"] == "http://127.0.0.1:9"  # a closed port
    with pytest.raises(ProviderUnavailableError):
        wunderkind_adapter(http=HttpSettings(1, 1, 1)).fetch_status("any", NOW)


def test_the_simulator_sends_callbacks_like_wunderkind_with_static_headers(sim: WunderkindSimulator) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[tuple[str, dict[str, str], dict[str, str]]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.command, dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sim.callback_target = {
            "url": f"http://127.0.0.1:{server.server_address[1]}/hook",
            "method": "PUT",
            "headers": {"X-Client-ID": "cb-id", "X-Client-Secret": "cb-secret"},
        }
        message_id = sent_to(sim, "+15551230000")
        deadline = time.monotonic() + 3
        while len(received) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        server.shutdown()
    assert [body["status"] for _, _, body in received] == ["PENDING_TO_SEND", "SENDING", "DELIVERED"]
    method, headers, body = received[-1]
    assert method == "PUT"
    assert (headers["X-Client-ID"], headers["X-Client-Secret"]) == ("cb-id", "cb-secret")
    assert set(body) == {"messageID", "status", "phone", "email", "callbackData"}
    assert body["messageID"] == message_id
