"""The status API on moto, with the Wunderkind simulator as the provider behind read-throughs."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from local.openapi import DOCUMENT
from local.simulators.base import Fault
from local.simulators.wunderkind import WunderkindSimulator
from tests.support.api import get, register
from tests.support.aws import api_event, invoke, table_items
from tests.support.payloads import WUNDERKIND_MESSAGE_ID as MESSAGE_ID
from textstatus.api import MAX_MESSAGES_PER_REGISTRATION


def delivered_message(simulator: WunderkindSimulator) -> str:
    message = simulator.add_message([("SENDING", 0.0), ("DELIVERED", 0.0)])
    return message.message_id


def test_registration_starts_tracking_and_is_idempotent(status_api: Any) -> None:
    body = {
        "provider": "wunderkind",
        "messageId": MESSAGE_ID,
        "reference": "order-1234",
        "metadata": {"team": "alerts"},
    }
    code, first = register(status_api, body)
    assert code == 201
    (message,) = first["messages"]
    assert message["new"] is True
    assert (message["status"], message["final"], message["source"]) == ("accepted", False, "registration")
    assert (message["reference"], message["metadata"]) == ("order-1234", {"team": "alerts"})
    assert message["nextPollAt"] is not None
    items_after_first = table_items()
    code, again = register(status_api, body)
    assert code == 201
    assert again["messages"][0]["new"] is False
    assert again["messages"][0]["version"] == message["version"]
    assert table_items() == items_after_first


def test_registration_from_wunderkinds_send_response(status_api: Any) -> None:
    code, answer = register(status_api, {"provider": "wunderkind", "sendResponse": {"messageId": MESSAGE_ID}})
    assert code == 201
    assert [m["messageId"] for m in answer["messages"]] == [MESSAGE_ID]


def test_a_registration_after_a_callback_keeps_the_status_and_adds_the_reference(status_api: Any) -> None:
    from functions.callbacks import app as callbacks
    from tests.support.payloads import WUNDERKIND_CALLBACK_HEADERS as CALLBACK_HEADERS

    callback = {"messageID": MESSAGE_ID, "status": "DELIVERED"}
    invoke(callbacks, api_event("POST", "/v1/callbacks/wunderkind", body=callback, headers=CALLBACK_HEADERS))
    code, answer = register(status_api, {"provider": "wunderkind", "messageId": MESSAGE_ID, "reference": "order-9"})
    assert code == 201
    message = answer["messages"][0]
    assert (message["new"], message["status"], message["reference"]) == (False, "delivered", "order-9")
    code, _, listed = get(status_api, "/v1/messages", reference="order-9")
    assert [m["messageId"] for m in listed["messages"]] == [MESSAGE_ID]


def test_a_known_message_is_served_from_the_table_without_asking_the_provider(
    status_api: Any, wunderkind_sim: WunderkindSimulator
) -> None:
    register(status_api, {"provider": "wunderkind", "messageId": MESSAGE_ID})
    code, _, body = get(status_api, f"/v1/messages/wunderkind/{MESSAGE_ID}")
    assert (code, body["status"]) == (200, "accepted")
    assert sum(wunderkind_sim.request_counts.values()) == 0


def test_an_unknown_message_is_asked_of_the_provider_once_then_stored(
    status_api: Any, wunderkind_sim: WunderkindSimulator
) -> None:
    message_id = delivered_message(wunderkind_sim)
    for _ in range(3):
        code, _, body = get(status_api, f"/v1/messages/wunderkind/{message_id}")
        assert (code, body["status"], body["source"]) == (200, "delivered", "lookup")
    assert wunderkind_sim.request_counts["/text/message/status"] == 1


def test_refresh_asks_the_provider_even_for_a_known_message(
    status_api: Any, wunderkind_sim: WunderkindSimulator
) -> None:
    message_id = delivered_message(wunderkind_sim)
    register(status_api, {"provider": "wunderkind", "messageId": message_id})
    code, _, body = get(status_api, f"/v1/messages/wunderkind/{message_id}", refresh="true")
    assert (code, body["status"], body["lastPolledAt"] is not None) == (200, "delivered", True)
    assert wunderkind_sim.request_counts["/text/message/status"] == 1


def test_a_message_neither_here_nor_at_the_provider_is_404_and_nothing_is_stored(
    status_api: Any, wunderkind_sim: WunderkindSimulator
) -> None:
    code, _, body = get(status_api, "/v1/messages/wunderkind/0b5e1d8c-0000-4000-8000-000000000000")
    assert code == 404
    assert body["error"] == {
        "code": "MessageNotFound",
        "message": body["error"]["message"],
        "target": "messageId",
        "details": [],
    }
    assert table_items() == []


def test_a_throttled_provider_answers_503_with_its_retry_after(
    status_api: Any, wunderkind_sim: WunderkindSimulator
) -> None:
    wunderkind_sim.set_fault(Fault(status=429, retry_after=7))
    code, headers, body = get(status_api, "/v1/messages/wunderkind/0b5e1d8c-0000-4000-8000-000000000001")
    assert (code, body["error"]["code"], headers.get("Retry-After")) == (503, "ProviderThrottled", "7")


@pytest.mark.parametrize(
    "answer", [b"<html>maintenance</html>", b'{"truncated": ', b"{}"], ids=["html", "truncated", "no-status"]
)
def test_a_provider_answering_garbage_is_a_documented_502(
    status_api: Any, wunderkind_sim: WunderkindSimulator, answer: bytes
) -> None:
    wunderkind_sim.set_fault(Fault(status=200, body=answer))
    code, _, body = get(status_api, "/v1/messages/wunderkind/0b5e1d8c-0000-4000-8000-000000000003")
    assert (code, body["error"]["code"]) == (502, "ProviderBadResponse")
    assert set(body["error"]) == {"code", "message", "target", "details"}
    assert table_items() == []
    documented = json.loads(DOCUMENT.read_text())["paths"]["/v1/messages/{provider}/{messageId}"]["get"]["responses"]
    assert "ProviderBadResponse" in documented["502"]["description"]


def test_a_slow_provider_times_out_into_503_not_a_hang(
    status_api: Any, wunderkind_sim: WunderkindSimulator, env: pytest.MonkeyPatch
) -> None:
    env.setenv("HTTP_READ_TIMEOUT_SECONDS", "0.2")
    wunderkind_sim.set_fault(Fault(delay_seconds=1.0, remaining=1))
    started = time.monotonic()
    code, _, body = get(status_api, "/v1/messages/wunderkind/0b5e1d8c-0000-4000-8000-000000000002")
    assert (code, body["error"]["code"]) == (503, "ProviderUnavailable")
    assert time.monotonic() - started < 1.0


def test_history_is_newest_first_with_sources(status_api: Any, wunderkind_sim: WunderkindSimulator) -> None:
    message_id = delivered_message(wunderkind_sim)
    register(status_api, {"provider": "wunderkind", "messageId": message_id})
    get(status_api, f"/v1/messages/wunderkind/{message_id}", refresh="true")
    code, _, body = get(status_api, f"/v1/messages/wunderkind/{message_id}/events")
    assert code == 200
    assert [(e["source"], e["status"], e["changedStatus"]) for e in body["events"]] == [
        ("lookup", "delivered", True),
        ("registration", "accepted", True),
    ]
    received = [e["receivedAt"] for e in body["events"]]
    assert received == sorted(received, reverse=True)


def test_history_of_an_unknown_message_is_404(status_api: Any) -> None:
    code, _, body = get(status_api, f"/v1/messages/wunderkind/{MESSAGE_ID}/events")
    assert (code, body["error"]["code"]) == (404, "MessageNotFound")


def test_listing_by_reference_returns_only_that_references_messages(status_api: Any) -> None:
    for index, reference in enumerate(["order-1", "order-1", "order-2"]):
        register(status_api, {"provider": "wunderkind", "messageId": f"msg-{index}", "reference": reference})
    code, _, body = get(status_api, "/v1/messages", reference="order-1")
    assert code == 200
    assert sorted(m["messageId"] for m in body["messages"]) == ["msg-0", "msg-1"]
    assert get(status_api, "/v1/messages", reference="order-404")[2] == {"messages": [], "nextCursor": None}


@pytest.mark.parametrize(
    "body",
    [
        {"provider": "wunderkind"},
        {"provider": "wunderkind", "messageId": MESSAGE_ID, "sendResponse": {"messageId": MESSAGE_ID}},
        {"provider": "wunderkind", "messageId": "has spaces"},
        {"provider": "wunderkind", "messageId": "x" * 129},
        {"provider": "wunderkind", "messageId": MESSAGE_ID, "unexpected": 1},
        {"provider": "wunderkind", "messageId": MESSAGE_ID, "metadata": {"k": 5}},
        {"provider": 7, "messageId": MESSAGE_ID},
        {"messageId": MESSAGE_ID},
    ],
    ids=["neither", "both", "bad-id", "long-id", "extra-field", "metadata-type", "provider-type", "no-provider"],
)
def test_an_invalid_registration_is_422_in_the_error_shape_and_stores_nothing(status_api: Any, body: Any) -> None:
    code, answer = register(status_api, body)
    assert code == 422
    assert answer["error"]["code"] == "ValidationError"
    assert answer["error"]["details"], answer
    assert all({"code", "message", "target"} <= set(d) for d in answer["error"]["details"])
    assert table_items() == []


def test_a_body_that_is_not_json_is_refused_in_the_error_shape(status_api: Any) -> None:
    code, _, answer = invoke(status_api, api_event("POST", "/v1/messages", body="{nope"))
    assert code == 422
    assert answer["error"]["code"] == "ValidationError"


def test_an_unknown_provider_is_404_everywhere(status_api: Any) -> None:
    assert register(status_api, {"provider": "acme", "messageId": MESSAGE_ID})[1]["error"]["code"] == "ProviderNotFound"
    for path in (f"/v1/messages/acme/{MESSAGE_ID}", f"/v1/messages/acme/{MESSAGE_ID}/events"):
        code, _, body = get(status_api, path)
        assert (code, body["error"]["code"]) == (404, "ProviderNotFound")
    assert table_items() == []


def test_a_bad_send_response_is_400_and_stores_nothing(status_api: Any) -> None:
    code, answer = register(status_api, {"provider": "wunderkind", "sendResponse": {"id": MESSAGE_ID}})
    assert (code, answer["error"]["target"]) == (400, "sendResponse")
    assert table_items() == []


def test_responses_are_json_with_the_documented_fields(status_api: Any) -> None:
    register(status_api, {"provider": "wunderkind", "messageId": MESSAGE_ID})
    code, headers, body = get(status_api, f"/v1/messages/wunderkind/{MESSAGE_ID}")
    assert code == 200
    assert headers["Content-Type"] == "application/json"
    assert set(body) == {
        "provider", "messageId", "status", "final", "reason", "providerStatus", "providerDetail", "segments",
        "recipients", "reference", "metadata", "source", "providerEventAt", "createdAt", "updatedAt",
        "lastPolledAt", "nextPollAt", "expiresAt", "version",
    }  # fmt: skip
    assert json.dumps(body)


@pytest.mark.parametrize("operation", ["get_item", "query"])
def test_a_lookup_while_dynamodb_throttles_answers_503_in_the_error_shape(
    status_api: Any, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    from botocore.exceptions import ClientError

    from textstatus import runtime

    def throttled(*_: Any, **__: Any) -> Any:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation)

    monkeypatch.setattr(runtime.store()._client, operation, throttled)
    path = (
        f"/v1/messages/wunderkind/{MESSAGE_ID}"
        if operation == "get_item"
        else f"/v1/messages/wunderkind/{MESSAGE_ID}/events"
    )
    code, headers, body = get(status_api, path)
    assert (code, body["error"]["code"], headers.get("Retry-After")) == (503, "ServiceUnavailable", "5")
    assert "Rate exceeded" not in json.dumps(body)


@pytest.mark.parametrize(
    ("path", "query"),
    [
        (f"/v1/messages/wunderkind/{MESSAGE_ID}", {"refresh": "true", "force": "1"}),
        (f"/v1/messages/wunderkind/{MESSAGE_ID}/events", {"page": "2"}),
        ("/v1/messages", {"reference": "order-1", "": "null"}),
    ],
)
def test_an_unknown_query_parameter_is_a_400(status_api: Any, path: str, query: dict[str, str]) -> None:
    code, _, body = get(status_api, path, **query)
    assert (code, body["error"]["code"], body["error"]["target"]) == (400, "BadRequest", "query")


def test_an_unknown_query_parameter_on_a_registration_is_a_400_and_stores_nothing(status_api: Any) -> None:
    body = {"provider": "wunderkind", "messageId": MESSAGE_ID}
    event = api_event("POST", "/v1/messages", body=body, query={"foo": "bar"})
    code, _, body = invoke(status_api, event)
    assert (code, body["error"]["code"], body["error"]["target"]) == (400, "BadRequest", "query")
    assert "'foo'" in body["error"]["message"]
    assert table_items() == []


def test_a_batch_over_the_cap_is_422_naming_send_response_and_stores_nothing(status_api: Any) -> None:
    batch = [{"index": n, "messageId": f"m-{n:04d}"} for n in range(MAX_MESSAGES_PER_REGISTRATION + 1)]
    code, answer = register(status_api, {"provider": "comapi", "sendResponse": batch})
    assert (code, answer["error"]["code"]) == (422, "ValidationError")
    assert any(
        d["target"].startswith("body.sendResponse") and d["code"] == "too_long" for d in answer["error"]["details"]
    ), answer
    assert table_items() == []
