"""Comapi's send responses (201 single, 202 batch): parsed by the adapter, and registered through
POST /v1/messages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.adapters import comapi_adapter
from tests.support.api import comapi_post, register
from tests.support.aws import api_event, invoke, table_items
from tests.support.payloads import COMAPI_201, COMAPI_202, NOW, comapi_envelope
from textstatus.errors import InvalidRequestError
from textstatus.providers.base import SentMessage, SentMessages


@pytest.mark.parametrize("word", ["processing", "sent", "failed", "Failed"])
def test_comapi_send_response_keeps_a_word_a_send_call_returns(word: str) -> None:
    (sent,) = comapi_adapter().messages_in_send_response({**COMAPI_201, "status": word}, NOW).messages
    assert sent.first is not None
    assert sent.first.provider_status == word
    assert sent.needs_confirmation is False


@pytest.mark.parametrize("word", ["delivered", "read", "expired", "retrying", "filtered", "undeliverable", "x" * 500])
def test_comapi_send_response_drops_a_word_no_send_call_returns(word: str) -> None:
    assert comapi_adapter().messages_in_send_response({**COMAPI_201, "status": word}, NOW) == SentMessages(
        [SentMessage(COMAPI_201["messageId"])]
    )


@pytest.mark.parametrize("raw", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "+275760-09-13T00:00:00Z"])
def test_comapi_send_response_with_unusable_times_keeps_the_received_time(raw: str) -> None:
    (sent,) = comapi_adapter().messages_in_send_response({**COMAPI_201, "_updatedOn": raw, "sentOn": raw}, NOW).messages
    assert sent.first is not None
    assert (sent.first.event_at, sent.first.provider_gave_time) == (NOW, False)
    assert f"_updatedOn '{raw}' not usable" in (sent.first.provider_detail or "")
    assert f"sentOn '{raw}' not usable" in (sent.first.provider_detail or "")


def test_comapi_batch_send_response_skips_bad_elements_with_a_reason() -> None:
    batch: list[Any] = [
        {"index": 0, "messageId": "58bde0da-b380-4cb2-8dd1-ca74fc7a0cda"},
        {"index": 1},
        "0aee96a8",
        None,
        {"index": 4, "messageId": "../etc"},
        {"index": 5, "messageId": 10**40},
        {"index": 6, "messageId": "0aee96a8-09c9-4192-bf6d-c5f20a323956"},
    ]
    result = comapi_adapter().messages_in_send_response(batch, NOW)
    assert [m.message_id for m in result.messages] == [batch[0]["messageId"], batch[6]["messageId"]]
    assert all(m.first is None for m in result.messages)
    assert result.ignored == [f"item {n}: no valid messageId" for n in (1, 2, 3, 4, 5)]


@pytest.mark.parametrize("batch", [[], [{"index": 0}], [None, "x", 3]], ids=["empty", "no-id", "junk"])
def test_comapi_batch_send_response_with_nothing_valid_is_refused(batch: list[Any]) -> None:
    with pytest.raises(InvalidRequestError):
        comapi_adapter().messages_in_send_response(batch, NOW)


def test_a_comapi_batch_registers_every_message_and_is_idempotent(status_api: Any) -> None:
    code, first = register(status_api, {"provider": "comapi", "sendResponse": COMAPI_202, "reference": "batch-1"})
    assert code == 201
    assert [(m["messageId"], m["new"]) for m in first["messages"]] == [(item["messageId"], True) for item in COMAPI_202]
    items = table_items()
    code, again = register(status_api, {"provider": "comapi", "sendResponse": COMAPI_202, "reference": "batch-1"})
    assert code == 201
    assert [m["new"] for m in again["messages"]] == [False, False]
    assert len(table_items()) == len(items)
    listed = invoke(status_api, api_event("GET", "/v1/messages", query={"reference": "batch-1"}))[2]
    assert sorted(m["messageId"] for m in listed["messages"]) == sorted(str(item["messageId"]) for item in COMAPI_202)


def test_a_batch_with_some_messages_already_tracked_says_which_are_new(status_api: Any, callbacks: Any) -> None:
    delivered = comapi_envelope("message.delivered", "delivered", "e9", message_id=COMAPI_202[1]["messageId"])
    comapi_post(callbacks, delivered)
    code, answer = register(status_api, {"provider": "comapi", "sendResponse": COMAPI_202, "reference": "batch-2"})
    assert code == 201
    assert [(m["new"], m["status"]) for m in answer["messages"]] == [(True, "accepted"), (False, "delivered")]
    assert all(m["reference"] == "batch-2" for m in answer["messages"])


def test_a_large_batch_registers_in_batched_writes(status_api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from textstatus import runtime

    client = runtime.store()._client
    calls: list[str] = []
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    batch = [{"index": n, "messageId": f"m-{n:04d}"} for n in range(100)]
    code, answer = register(status_api, {"provider": "comapi", "sendResponse": batch})
    assert code == 201
    assert len(answer["messages"]) == 100
    # Each message's event and status item together, conditional on neither existing: 50 a
    # transaction (100 items). No read back, no unconditional batch write.
    assert calls == ["TransactWriteItems", "TransactWriteItems"]


@pytest.mark.parametrize("word", ["delivered", "read", "expired"])
def test_a_comapi_send_response_claiming_a_word_no_send_call_returns_registers_only_the_id(
    status_api: Any, word: str
) -> None:
    code, answer = register(status_api, {"provider": "comapi", "sendResponse": {**COMAPI_201, "status": word}})
    assert code == 201
    (message,) = answer["messages"]
    assert (message["status"], message["providerStatus"], message["final"]) == ("accepted", None, False)


def test_a_comapi_batch_with_a_bad_element_registers_the_others(status_api: Any) -> None:
    batch = [COMAPI_202[0], {"index": 1, "messageId": "../../etc/passwd"}, {"index": 2}, COMAPI_202[1]]
    code, answer = register(status_api, {"provider": "comapi", "sendResponse": batch, "reference": "batch-3"})
    assert code == 201
    assert [m["messageId"] for m in answer["messages"]] == [item["messageId"] for item in COMAPI_202]


@pytest.mark.parametrize("raw", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_comapi_send_response_with_unusable_times_registers_with_the_received_time(status_api: Any, raw: str) -> None:
    from textstatus.clock import iso, utcnow

    before = iso(utcnow())
    code, answer = register(
        status_api, {"provider": "comapi", "sendResponse": {**COMAPI_201, "_updatedOn": raw, "sentOn": raw}}
    )
    assert code == 201
    (message,) = answer["messages"]
    assert message["providerStatus"] == "processing"
    assert before <= message["providerEventAt"] <= message["createdAt"]
    assert f"_updatedOn '{raw}' not usable" in message["providerDetail"]
