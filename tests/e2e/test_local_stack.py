"""The local stack started as `make run` starts it, driven over real HTTP like a client and a provider."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from local.stack import free_port
from local.template import ROOT
from tests.support.payloads import tms_recipients
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

API_KEY = "e2e-key"
CALLBACK_ID = "e2e-callback-id"
CALLBACK_SECRET = "e2e-callback-secret"


@dataclass
class Stack:
    api: str
    wunderkind: str
    process: subprocess.Popen[bytes]
    state_file: Path

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"x-api-key": API_KEY, **kwargs.pop("headers", {})}
        return requests.request(method, self.api + path, headers=headers, timeout=10, **kwargs)

    def sim(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, self.wunderkind + path, timeout=10, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("stack") / "stack.json"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(ROOT)),
        "LOCAL_API_PORT": str(free_port()),
        "LOCAL_DYNAMODB_PORT": str(free_port()),
        "LOCAL_CALLBACK_URL_PORT": str(free_port()),
        "LOCAL_API_KEY": API_KEY,
        "LOCAL_STATE_FILE": str(state),
        "LOCAL_POLL_INTERVAL": "0.5",
        "LOCAL_SIM_STEP_SECONDS": "0.3",
        "POLL_INITIAL_DELAY_SECONDS": "1",
        "POLL_MAX_BACKOFF_SECONDS": "2",
        "WUNDERKIND_CALLBACK_ID": CALLBACK_ID,
        "WUNDERKIND_CALLBACK_SECRET": CALLBACK_SECRET,
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
        # A message known only from callbacks takes its reference from this entry of its callbackData.
        "REFERENCE_KEY": "orderId",
    }
    log = (state.parent / "stack.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "local"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: state.exists() or process.poll() is not None, 30)
        assert process.poll() is None, (state.parent / "stack.log").read_text()
        info = json.loads(state.read_text())
        yield Stack(info["apiUrl"], info["simulators"]["wunderkind"], process, state)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=15) == 0, (state.parent / "stack.log").read_text()[-3000:]
        finally:
            if process.poll() is None:
                process.kill()
        assert not state.exists(), "the stack removes its state file when it stops"


def status_of(stack: Stack, message_id: str) -> dict[str, Any]:
    response = stack.call("GET", f"/v1/messages/wunderkind/{message_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_api_key_is_required_on_status_routes_but_not_on_callbacks(stack: Stack) -> None:
    assert stack.call("GET", "/v1/messages?reference=x", headers={"x-api-key": "wrong"}).status_code == 403
    unauthenticated = requests.post(stack.api + "/v1/callbacks/wunderkind", json={}, timeout=10)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["code"] == "Unauthorized"


def test_a_message_sent_and_registered_from_its_send_response_is_delivered_by_callbacks(stack: Stack) -> None:
    send = stack.sim(
        "POST",
        "/text/message/send",
        json={"phone": "+15551230000", "text": "Your code is 123456", "sendPurpose": "TRANSACTIONAL"},
        headers={"X-Client-ID": "local-wunderkind-client-id", "X-Client-Secret": "local-wunderkind-client-secret"},
    )
    registered = stack.call(
        "POST", "/v1/messages", json={"provider": "wunderkind", "sendResponse": send, "reference": "e2e-1"}
    )
    assert registered.status_code == 201
    message_id = send["messageId"]
    final = wait_for(lambda: (s := status_of(stack, message_id))["status"] == "delivered" and s)
    assert (final["source"], final["reference"], final["final"]) == ("callback", "e2e-1", True)
    listed = stack.call("GET", "/v1/messages?reference=e2e-1").json()
    assert [m["messageId"] for m in listed["messages"]] == [message_id]


def test_a_message_never_registered_is_found_by_the_reference_in_its_callback_data(stack: Stack) -> None:
    """The sender gives Wunderkind its own order id in callbackData and never registers the
    message: the callbacks alone make it, with that data as its metadata and the order id
    (REFERENCE_KEY=orderId) as its reference."""
    callback_data = json.dumps({"orderId": "e2e-order-42", "campaign": "spring"})
    send = stack.sim(
        "POST",
        "/text/message/send",
        json={
            "phone": "+15551230000",
            "text": "Your order shipped",
            "sendPurpose": "TRANSACTIONAL",
            "callbackData": callback_data,
        },
        headers={"X-Client-ID": "local-wunderkind-client-id", "X-Client-Secret": "local-wunderkind-client-secret"},
    )

    def found() -> dict[str, Any] | None:
        listed = stack.call("GET", "/v1/messages?reference=e2e-order-42")
        assert listed.status_code == 200, listed.text
        messages = listed.json()["messages"]
        return messages[0] if messages and messages[0]["status"] == "delivered" else None

    message = wait_for(found)
    assert message["messageId"] == send["messageId"]
    assert (message["source"], message["reference"]) == ("callback", "e2e-order-42")
    assert message["metadata"] == {"orderId": "e2e-order-42", "campaign": "spring"}
    sources = {
        e["source"] for e in stack.call("GET", f"/v1/messages/wunderkind/{send['messageId']}/events").json()["events"]
    }
    assert "registration" not in sources


def test_a_message_whose_callbacks_are_lost_is_delivered_by_the_poller_alone(stack: Stack) -> None:
    created = stack.sim(
        "POST", "/_sim/messages", json={"plan": [["SENDING", 0], ["DELIVERED", 0.5]], "data": {"silent": True}}
    )
    message_id = created["messageId"]
    assert (
        stack.call("POST", "/v1/messages", json={"provider": "wunderkind", "messageId": message_id}).status_code == 201
    )
    final = wait_for(lambda: (s := status_of(stack, message_id))["status"] == "delivered" and s)
    assert final["source"] == "poll"
    assert final["lastPolledAt"] is not None
    sources = {e["source"] for e in stack.call("GET", f"/v1/messages/wunderkind/{message_id}/events").json()["events"]}
    assert sources == {"registration", "poll"}


def test_reversed_and_duplicated_callbacks_end_delivered_and_wrong_headers_change_nothing(stack: Stack) -> None:
    created = stack.sim("POST", "/_sim/messages", json={"plan": [["SENDING", 0]], "data": {"silent": True}})
    message_id = created["messageId"]
    stack.sim("POST", f"/_sim/messages/{message_id}/callback", json={"status": "DELIVERED", "times": 2})
    stack.sim("POST", f"/_sim/messages/{message_id}/callback", json={"status": "SENDING"})
    stack.sim("POST", f"/_sim/messages/{message_id}/callback", json={"status": "PENDING_TO_SEND"})
    before = status_of(stack, message_id)
    assert (before["status"], before["version"]) == ("delivered", 1)
    forged = requests.post(
        stack.api + "/v1/callbacks/wunderkind",
        json={"messageID": message_id, "status": "FAILED_TO_DELIVERY"},
        headers={"X-Client-ID": CALLBACK_ID, "X-Client-Secret": "forged"},
        timeout=10,
    )
    assert forged.status_code == 401
    assert status_of(stack, message_id) == before


def test_a_lookup_of_an_unknown_id_asks_the_simulator_once(stack: Stack) -> None:
    created = stack.sim("POST", "/_sim/messages", json={"plan": [["FAILED_TO_SEND", 0]], "data": {"silent": True}})
    message_id = created["messageId"]
    before = stack.sim("GET", "/_sim/requests")["byPath"].get("/text/message/status", 0)
    first, second = status_of(stack, message_id), status_of(stack, message_id)
    assert (first["status"], first["reason"], first["source"]) == ("failed", "provider_error", "lookup")
    assert second["version"] == first["version"]
    after = stack.sim("GET", "/_sim/requests")["byPath"].get("/text/message/status", 0)
    assert after - before == 1
    missing = stack.call("GET", "/v1/messages/wunderkind/0b5e1d8c-0000-4000-8000-00000000e2e0")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "MessageNotFound")


def test_make_invoke_runs_one_function_against_the_running_stack(stack: Stack) -> None:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "local.invoke", "PollerFunction", str(ROOT / "events" / "poller" / "schedule.json")],
        cwd=ROOT,
        env={**os.environ, "LOCAL_STATE_FILE": str(stack.state_file)},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    summary = json.loads(result.stdout)
    assert {"due", "changed", "failed", "expired"} <= set(summary)


# The other providers, each from its own send response to its final status ----------------------


def sim_url(stack: Stack, provider: str) -> str:
    url: str = json.loads(stack.state_file.read_text())["simulators"][provider]
    return url


def test_usajobs_messages_reach_their_outcomes_by_polling_alone(stack: Stack) -> None:
    from local.stack import LOCAL_DEFAULTS

    sim = sim_url(stack, "usajobs")
    ids = {}
    for document_id in ("APP-100", "APP-101-optout"):
        sent = requests.post(
            f"{sim}/api/textmessaging/sendmessage",
            json={"alternateDocumentID": document_id, "message": "Your application status changed."},
            headers={"X-Api-Key": LOCAL_DEFAULTS["USAJOBS_API_KEY"]},
            timeout=10,
        ).json()
        assert stack.call("POST", "/v1/messages", json={"provider": "usajobs", "sendResponse": sent}).status_code == 201
        ids[document_id] = sent["responseId"]
    delivered = wait_for(lambda: (s := status_of_provider(stack, "usajobs", ids["APP-100"]))["final"] and s)
    opted_out = wait_for(lambda: (s := status_of_provider(stack, "usajobs", ids["APP-101-optout"]))["final"] and s)
    assert (delivered["status"], delivered["source"], delivered["segments"]) == (
        "delivered",
        "poll",
        {"successful": 1, "failed": 0},
    )
    assert (opted_out["status"], opted_out["reason"]) == ("rejected", "opted_out")
    assert requests.post(stack.api + "/v1/callbacks/usajobs", json={}, timeout=10).status_code == 404


def test_comapi_batch_send_is_delivered_by_signed_webhooks_even_duplicated_and_reversed(stack: Stack) -> None:
    from local.stack import LOCAL_DEFAULTS

    sim = sim_url(stack, "comapi")
    requests.post(
        f"{sim}/_sim/callbacks",
        json={"url": stack.api + "/v1/callbacks/comapi", "duplicates": 2, "reverse": True},
        timeout=10,
    )
    try:
        response = requests.post(
            f"{sim}/apispaces/{LOCAL_DEFAULTS['COMAPI_API_SPACE_ID']}/messages/batch",
            json=[
                {"body": "a", "to": {"phoneNumber": "447700900000"}},
                {"body": "b", "to": {"phoneNumber": "447700900002"}},
            ],
            headers={"Authorization": f"Bearer {LOCAL_DEFAULTS['COMAPI_TOKEN']}"},
            timeout=10,
        )
        assert response.status_code == 202
        registered = stack.call("POST", "/v1/messages", json={"provider": "comapi", "sendResponse": response.json()})
        assert registered.status_code == 201
        delivered_id, expired_id = (item["messageId"] for item in response.json())
        delivered = wait_for(lambda: (s := status_of_provider(stack, "comapi", delivered_id))["final"] and s)
        expired = wait_for(lambda: (s := status_of_provider(stack, "comapi", expired_id))["final"] and s)
    finally:
        requests.post(f"{sim}/_sim/callbacks", json={"url": stack.api + "/v1/callbacks/comapi"}, timeout=10)
    assert (delivered["status"], delivered["source"]) == ("delivered", "callback")
    assert (expired["status"], expired["reason"]) == ("undelivered", "expired_at_provider")
    history = stack.call("GET", f"/v1/messages/comapi/{delivered_id}/events").json()["events"]
    assert sorted(e["providerStatus"] for e in history if e["source"] == "callback") == ["delivered", "sent"]


def test_govdelivery_recipient_callbacks_confirmed_at_tms_end_partially_delivered(stack: Stack) -> None:
    from local.stack import LOCAL_DEFAULTS

    sim = sim_url(stack, "govdelivery")
    sent = requests.post(
        f"{sim}/messages/sms",
        json={"body": "Road closures tonight", "recipients": [{"phone": "+15555550000"}, {"phone": "+15555550001"}]},
        headers={"X-AUTH-TOKEN": LOCAL_DEFAULTS["GOVDELIVERY_TOKEN"]},
        timeout=10,
    ).json()
    registered = stack.call("POST", "/v1/messages", json={"provider": "govdelivery", "sendResponse": sent})
    assert registered.status_code == 201
    message_id = registered.json()["messages"][0]["messageId"]
    final = wait_for(lambda: (s := status_of_provider(stack, "govdelivery", message_id))["final"] and s)
    assert (final["status"], final["recipients"]["sent"], final["recipients"]["failed"]) == (
        "partially_delivered",
        1,
        1,
    )
    forged = requests.post(stack.api + "/v1/callbacks/govdelivery?token=guess", data={"status": "sent"}, timeout=10)
    assert forged.status_code == 401


def test_govdelivery_recipients_of_a_120_recipient_message_are_read_from_tms_page_by_page(stack: Stack) -> None:
    sim = sim_url(stack, "govdelivery")
    phones = tms_recipients(120)
    created = requests.post(
        f"{sim}/_sim/messages", json={"data": {"phones": phones, "silent": True, "building": 1}}, timeout=10
    ).json()
    path = f"/v1/messages/govdelivery/{created['messageId']}/recipients"
    building = stack.call("GET", path)
    assert (building.status_code, building.headers["Retry-After"]) == (202, "10")

    def failed() -> list[dict[str, Any]]:
        answer = stack.call("GET", path, params={"status": "failed"})
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["recipients"]
        return found

    assert len(wait_for(lambda: len(f := failed()) == 12 and f)) == 12
    assert all(r["errorMessage"] and r["status"] == "undelivered" for r in failed())
    pages: list[dict[str, Any]] = []
    params: dict[str, str] = {}
    while not pages or pages[-1]["nextCursor"]:
        answer = stack.call("GET", path, params=params)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        params = {"cursor": pages[-1]["nextCursor"]}
    assert [len(page["recipients"]) for page in pages] == [50, 50, 20]
    assert [r["phone"] for page in pages for r in page["recipients"]] == ["*******" + p[-4:] for p in phones]
    not_supported = stack.call("GET", "/v1/messages/wunderkind/f9eea82a-ce63-4dfa-ae8e-09b891f446cc/recipients")
    assert (not_supported.status_code, not_supported.json()["error"]["code"]) == (404, "RecipientsNotSupported")


def status_of_provider(stack: Stack, provider: str, message_id: str) -> dict[str, Any]:
    response = stack.call("GET", f"/v1/messages/{provider}/{message_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_subscribed_receiver_gets_every_change_of_a_message_signed_and_in_order(stack: Stack) -> None:
    """The whole flow as `make run` runs it: a callback changes a status, the table's stream feeds
    the notifier, the FIFO queue feeds the delivery function, and the documented receiver
    (`python -m local.receiver`) verifies each delivery with the standardwebhooks package."""
    from local.receiver import WebhookReceiver

    port = free_port()
    subscribed = stack.call("POST", "/v1/subscriptions", json={"url": f"http://127.0.0.1:{port}/"})
    assert subscribed.status_code == 201, subscribed.text
    receiver = WebhookReceiver(subscribed.json()["secret"], port=port).start()
    try:
        send = stack.sim(
            "POST",
            "/text/message/send",
            json={"phone": "+15551230000", "text": "Your code is 123456", "sendPurpose": "TRANSACTIONAL"},
            headers={"X-Client-ID": "local-wunderkind-client-id", "X-Client-Secret": "local-wunderkind-client-secret"},
        )
        message_id = send["messageId"]
        final = wait_for(lambda: (s := status_of(stack, message_id))["status"] == "delivered" and s, 30)

        def mine() -> list[dict[str, Any]]:
            return [d.data for d in receiver.received if d.data.get("messageId") == message_id]

        wait_for(lambda: len(mine()) >= final["version"], 30)
        changes = mine()
        assert [c["sequence"] for c in changes] == list(range(1, final["version"] + 1))
        assert changes[-1]["status"] == "delivered"
        assert receiver.refused == []
    finally:
        receiver.stop()


# The outcomes report ----------------------------------------------------------------------------


def test_the_outcomes_report_counts_delivered_failed_and_in_flight_messages_exactly(stack: Stack) -> None:
    """Wunderkind messages whose callbacks come from the simulator: the report over a window holding
    exactly them, every number checked against what the API says of each message."""
    from local.stack import DEMO_MESSAGE_ID

    # The demo message the stack sends at start is created by its first callback: before the window.
    wait_for(lambda: stack.call("GET", f"/v1/messages/wunderkind/{DEMO_MESSAGE_ID}").status_code == 200)
    start = datetime.now(UTC)
    plans = {
        "delivered-1": [["SENDING", 0], ["DELIVERED", 0.5]],
        "delivered-2": [["PENDING_TO_SEND", 0], ["DELIVERED", 1]],
        "failed": [["SENDING", 0], ["FAILED_TO_SEND", 0.5]],
        "undelivered": [["SENDING", 0], ["FAILED_TO_DELIVERY", 1]],
        "in-flight": [["SENDING", 0]],
    }
    ids = {name: stack.sim("POST", "/_sim/messages", json={"plan": plan})["messageId"] for name, plan in plans.items()}
    for message_id in ids.values():
        registered = stack.call("POST", "/v1/messages", json={"provider": "wunderkind", "messageId": message_id})
        assert registered.status_code == 201, registered.text
    finals = {name: final_status(stack, message_id) for name, message_id in ids.items() if name != "in-flight"}
    in_flight = wait_for(lambda: (s := status_of(stack, ids["in-flight"]))["status"] == "sending" and s)
    end = datetime.now(UTC) + timedelta(seconds=1)

    window = {"provider": "wunderkind", "from": start.isoformat(), "to": end.isoformat()}
    response = stack.call("GET", "/v1/reports/outcomes", params=window)

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["messages"], report["complete"], report["coveredTo"]) == (5, True, report["to"])
    assert {status: n for status, n in report["statuses"].items() if n} == {
        "sending": 1,
        "failed": 1,
        "undelivered": 1,
        "delivered": 2,
    }
    assert report["reasons"] == [
        {"status": "sending", "reason": None, "count": 1},
        {"status": "failed", "reason": "provider_error", "count": 1},
        {"status": "undelivered", "reason": "carrier_error", "count": 1},
        {"status": "delivered", "reason": None, "count": 2},
    ]
    assert report["deliveredShare"] == 2 / 5
    # Each final message's time: from its createdAt to the receipt of the event that made it final.
    times = sorted(time_to_final(stack, final) for final in finals.values())
    assert report["timeToFinal"] == {
        "messages": 4,
        "medianSeconds": times[1],  # nearest rank: ceil(0.5 x 4) = 2nd
        "p95Seconds": times[3],  # ceil(0.95 x 4) = 4th
    }
    assert report["pending"] == 1
    assert report["oldestPending"] == [
        {"messageId": ids["in-flight"], "status": "sending", "createdAt": in_flight["createdAt"]}
    ]


def final_status(stack: Stack, message_id: str) -> dict[str, Any]:
    final: dict[str, Any] = wait_for(lambda: (s := status_of(stack, message_id))["final"] and s)
    return final


def time_to_final(stack: Stack, status: dict[str, Any]) -> float:
    history = stack.call("GET", f"/v1/messages/wunderkind/{status['messageId']}/events").json()["events"]
    (final,) = [e for e in history if e["changedStatus"] and e["status"] == status["status"]]
    elapsed = datetime.fromisoformat(final["receivedAt"]) - datetime.fromisoformat(status["createdAt"])
    return max(elapsed, timedelta(0)) / timedelta(seconds=1)


def test_the_banners_report_curl_works_as_printed(stack: Stack) -> None:
    banner = (stack.state_file.parent / "stack.log").read_text()
    (line,) = [line for line in banner.splitlines() if "/v1/reports/outcomes?" in line]
    url = line.split("'")[1]
    assert url.startswith(stack.api)
    response = stack.call("GET", url[len(stack.api) :])
    assert response.status_code == 200, response.text
    assert response.json()["complete"] is True


def test_the_served_api_document_is_the_committed_one_naming_this_stack(stack: Stack) -> None:
    served = requests.get(stack.api + "/openapi.json", timeout=10).json()
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert served["servers"] == [{"url": stack.api, "description": "this local stack (make run)"}]
    assert {**served, "servers": committed["servers"]} == committed
