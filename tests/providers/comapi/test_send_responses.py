"""POST /v1/messages with each provider's own send response, single and batch."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import table_items
from tests.support import api_event, invoke

# The providers' documented send responses.
COMAPI_201 = {
    "_createdOn": "2017-03-17T14:22:40.633Z",
    "_updatedOn": "2017-03-17T14:22:40.633Z",
    "_createdBy": "access:3dd1558a-9db3-406a-8460-cbe5100a7628",
    "_updatedBy": "access:3dd1558a-9db3-406a-8460-cbe5100a7628",
    "to": {"phoneNumber": "447123123123"},
    "senderProfileId": "M0rsy",
    "body": "I love Comapi",
    "rules": ["sms"],
    "sentOn": "2017-03-17T14:22:40.627Z",
    "channelOptions": {"sms": {"from": "Comapi", "allowUnicode": False}},
    "status": "processing",
    "statusDetails": {"channelId": "sms"},
    "messageId": "d8e296bb-97c4-4495-b98f-1e32e0b11628",
}
COMAPI_202 = [
    {"index": 0, "messageId": "58bde0da-b380-4cb2-8dd1-ca74fc7a0cda"},
    {"index": 1, "messageId": "0aee96a8-09c9-4192-bf6d-c5f20a323956"},
]
GOVDELIVERY_201: dict[str, Any] = {
    "body": "Today is Sunny and 70F",
    "created_at": "2014-10-07T17:27:12Z",
    "status": "new",
    "_links": {
        "self": "/messages/sms/165532",
        "recipients": "/messages/sms/165532/recipients",
        "failed": "/messages/sms/165532/recipients/failed",
        "sent": "/messages/sms/165532/recipients/sent",
    },
    "recipient_counts": {
        "total": 2,
        "new": 2,
        "sending": 0,
        "inconclusive": 0,
        "blacklisted": 0,
        "canceled": 0,
        "sent": 0,
        "failed": 0,
    },
}
USAJOBS_200 = {"responseId": "3f1c8e52-9b7d-4f7e-a1b2-6c5d4e3f2a10"}
WUNDERKIND_200 = {"messageId": "f9eea82a-ce63-4dfa-ae8e-09b891f446cc"}


def register(status_api: Any, provider: str, send_response: Any, **extra: Any) -> tuple[int, Any]:
    body = {"provider": provider, "sendResponse": send_response, **extra}
    code, _, answer = invoke(status_api, api_event("POST", "/v1/messages", body=body))
    return code, answer


@pytest.mark.parametrize(
    ("provider", "response", "message_id", "status", "provider_status"),
    [
        ("comapi", COMAPI_201, "d8e296bb-97c4-4495-b98f-1e32e0b11628", "accepted", "processing"),
        ("comapi", {**COMAPI_201, "status": "failed"}, "d8e296bb-97c4-4495-b98f-1e32e0b11628", "failed", "failed"),
        # TMS's word in a send response is a claim to confirm with TMS, which cannot be reached
        # here (a closed port): tracked by id alone, the poller asks TMS later.
        ("govdelivery", GOVDELIVERY_201, "165532", "accepted", None),
        ("usajobs", USAJOBS_200, USAJOBS_200["responseId"], "accepted", None),
        ("wunderkind", WUNDERKIND_200, WUNDERKIND_200["messageId"], "accepted", None),
    ],
    ids=["comapi-201", "comapi-201-failed", "govdelivery", "usajobs", "wunderkind"],
)
def test_a_single_send_response_registers_its_message_with_the_providers_first_word(
    status_api: Any, provider: str, response: Any, message_id: str, status: str, provider_status: str | None
) -> None:
    code, answer = register(status_api, provider, response, reference="campaign-7")
    assert code == 201
    (message,) = answer["messages"]
    assert (message["messageId"], message["status"], message["providerStatus"]) == (message_id, status, provider_status)
    assert (message["new"], message["reference"], message["source"]) == (True, "campaign-7", "registration")
    assert message["final"] is (status == "failed")


def test_a_comapi_batch_registers_every_message_and_is_idempotent(status_api: Any) -> None:
    code, first = register(status_api, "comapi", COMAPI_202, reference="batch-1")
    assert code == 201
    assert [(m["messageId"], m["new"]) for m in first["messages"]] == [(item["messageId"], True) for item in COMAPI_202]
    items = table_items()
    code, again = register(status_api, "comapi", COMAPI_202, reference="batch-1")
    assert code == 201
    assert [m["new"] for m in again["messages"]] == [False, False]
    assert len(table_items()) == len(items)
    listed = invoke(status_api, api_event("GET", "/v1/messages", query={"reference": "batch-1"}))[2]
    assert sorted(m["messageId"] for m in listed["messages"]) == sorted(str(item["messageId"]) for item in COMAPI_202)


def test_a_batch_with_some_messages_already_tracked_says_which_are_new(status_api: Any, callbacks: Any) -> None:
    import hashlib
    import hmac
    import json

    from tests.conftest import TEST_ENV
    from tests.unit.test_provider_callbacks import envelope

    delivered = envelope("message.delivered", "delivered", "e9")
    delivered["payload"]["id"] = COMAPI_202[1]["messageId"]
    raw = json.dumps(delivered).encode()
    signature = hmac.new(TEST_ENV["COMAPI_WEBHOOK_SECRET"].encode(), raw, hashlib.sha1).hexdigest()
    invoke(callbacks, api_event("POST", "/v1/callbacks/comapi", body=raw, headers={"X-Comapi-Signature": signature}))
    code, answer = register(status_api, "comapi", COMAPI_202, reference="batch-2")
    assert code == 201
    assert [(m["new"], m["status"]) for m in answer["messages"]] == [(True, "accepted"), (False, "delivered")]
    assert all(m["reference"] == "batch-2" for m in answer["messages"])


def test_a_large_batch_registers_in_batched_writes(status_api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from textstatus import runtime

    client = runtime.store()._client
    calls: list[str] = []
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    batch = [{"index": n, "messageId": f"m-{n:04d}"} for n in range(100)]
    code, answer = register(status_api, "comapi", batch)
    assert code == 201
    assert len(answer["messages"]) == 100
    # Each message's event and status item together, conditional on neither existing: 50 a
    # transaction (100 items). No read back, no unconditional batch write.
    assert calls == ["TransactWriteItems", "TransactWriteItems"]


@pytest.mark.parametrize(
    ("provider", "response"),
    [
        ("comapi", [{"index": 0}]),
        ("comapi", {"status": "processing"}),
        ("comapi", []),
        ("govdelivery", {"status": "new"}),
        ("usajobs", {"messageId": "x"}),
        ("wunderkind", [WUNDERKIND_200]),
    ],
    ids=[
        "comapi-batch-no-id",
        "comapi-no-id",
        "comapi-empty",
        "govdelivery-no-link",
        "usajobs-wrong-field",
        "wunderkind-array",
    ],
)
def test_a_send_response_without_message_ids_is_400_and_stores_nothing(
    status_api: Any, provider: str, response: Any
) -> None:
    code, answer = register(status_api, provider, response)
    assert code == 400
    assert answer["error"]["target"] == "sendResponse"
    assert table_items() == []


@pytest.mark.parametrize("word", ["delivered", "read", "expired"])
def test_a_comapi_send_response_claiming_a_word_no_send_call_returns_registers_only_the_id(
    status_api: Any, word: str
) -> None:
    code, answer = register(status_api, "comapi", {**COMAPI_201, "status": word})
    assert code == 201
    (message,) = answer["messages"]
    assert (message["status"], message["providerStatus"], message["final"]) == ("accepted", None, False)


def test_a_comapi_batch_with_a_bad_element_registers_the_others(status_api: Any) -> None:
    batch = [COMAPI_202[0], {"index": 1, "messageId": "../../etc/passwd"}, {"index": 2}, COMAPI_202[1]]
    code, answer = register(status_api, "comapi", batch, reference="batch-3")
    assert code == 201
    assert [m["messageId"] for m in answer["messages"]] == [item["messageId"] for item in COMAPI_202]


@pytest.mark.parametrize("raw", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_comapi_send_response_with_unusable_times_registers_with_the_received_time(status_api: Any, raw: str) -> None:
    from textstatus.clock import iso, utcnow

    before = iso(utcnow())
    code, answer = register(status_api, "comapi", {**COMAPI_201, "_updatedOn": raw, "sentOn": raw})
    assert code == 201
    (message,) = answer["messages"]
    assert message["providerStatus"] == "processing"
    assert before <= message["providerEventAt"] <= message["createdAt"]
    assert f"_updatedOn '{raw}' not usable" in message["providerDetail"]


def test_a_govdelivery_send_response_claiming_completed_is_not_delivered_until_tms_says_so(status_api: Any) -> None:
    claim = {
        **GOVDELIVERY_201,
        "status": "completed",
        "completed_at": "2014-10-07T17:27:15Z",
        "recipient_counts": {**GOVDELIVERY_201["recipient_counts"], "new": 0, "sent": 2},
    }
    code, answer = register(status_api, "govdelivery", claim)
    # TMS (a closed port here) cannot confirm the claim: the message is tracked by id alone and
    # the poller asks TMS later.
    assert code == 201
    assert answer["messages"][0]["status"] == "accepted"
