"""Wunderkind's callbacks through the callbacks function on moto: authenticated ones change the status,
nothing else does."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import status_of, wunderkind_post
from tests.support.aws import api_event, invoke, table_items
from tests.support.payloads import WUNDERKIND_CALLBACK_HEADERS as CALLBACK_HEADERS
from tests.support.payloads import WUNDERKIND_MESSAGE_ID as MESSAGE_ID
from tests.support.payloads import wunderkind_callback


def test_a_callback_alone_delivers_an_unregistered_message(callbacks: Any, status_api: Any) -> None:
    code, body = wunderkind_post(callbacks, wunderkind_callback("DELIVERED"))
    assert (code, body) == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert status["status"] == "delivered"
    assert status["final"] is True
    assert status["providerStatus"] == "DELIVERED"
    assert status["source"] == "callback"
    assert status["nextPollAt"] is None


def test_put_is_accepted_for_wunderkind(callbacks: Any, status_api: Any) -> None:
    code, _ = wunderkind_post(callbacks, wunderkind_callback("FAILED_TO_DELIVERY"), method="PUT")
    assert code == 200
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert (status["status"], status["reason"]) == ("undelivered", "carrier_error")


def test_the_sequence_of_a_real_delivery_ends_delivered_and_counts_each_change(callbacks: Any, status_api: Any) -> None:
    for word in ("PENDING_TO_SEND", "SENDING", "DELIVERED"):
        assert wunderkind_post(callbacks, wunderkind_callback(word))[0] == 200
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert (status["status"], status["version"]) == ("delivered", 3)


def test_reversed_and_duplicated_callbacks_end_in_the_same_status(callbacks: Any, status_api: Any) -> None:
    results = [
        wunderkind_post(callbacks, wunderkind_callback(word))[1]
        for word in ("DELIVERED", "SENDING", "DELIVERED", "PENDING_TO_SEND")
    ]
    assert [r["duplicates"] for r in results] == [0, 0, 1, 0]
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert (status["status"], status["version"]) == ("delivered", 1)
    code, _, history = invoke(status_api, api_event("GET", f"/v1/messages/wunderkind/{MESSAGE_ID}/events"))
    assert code == 200
    assert sorted(e["providerStatus"] for e in history["events"]) == ["DELIVERED", "PENDING_TO_SEND", "SENDING"]
    assert [e["changedStatus"] for e in history["events"] if e["providerStatus"] == "DELIVERED"] == [True]
    assert all(not e["changedStatus"] for e in history["events"] if e["providerStatus"] != "DELIVERED")


def test_an_unknown_word_is_kept_in_history_without_changing_the_status(callbacks: Any, status_api: Any) -> None:
    wunderkind_post(callbacks, wunderkind_callback("SENDING"))
    code, body = wunderkind_post(callbacks, wunderkind_callback("QUEUED_AT_CARRIER"))
    assert (code, body["accepted"]) == (200, 1)
    assert status_of(status_api, "wunderkind", MESSAGE_ID)["status"] == "sending"
    _, _, history = invoke(status_api, api_event("GET", f"/v1/messages/wunderkind/{MESSAGE_ID}/events"))
    unknown = [e for e in history["events"] if e["providerStatus"] == "QUEUED_AT_CARRIER"]
    assert unknown == [unknown[0] | {"status": None, "reason": "unknown", "changedStatus": False}]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Client-ID": CALLBACK_HEADERS["X-Client-ID"], "X-Client-Secret": "guess"},
        {"X-Client-ID": "x", "X-Client-Secret": "y"},
    ],
    ids=["missing", "wrong-secret", "wrong-both"],
)
def test_bad_credentials_get_401_in_the_error_shape_and_store_nothing(callbacks: Any, headers: dict[str, str]) -> None:
    code, body = wunderkind_post(callbacks, wunderkind_callback("DELIVERED"), headers=headers)
    assert code == 401
    assert body["error"]["code"] == "Unauthorized"
    assert set(body["error"]) == {"code", "message", "target", "details"}
    assert table_items() == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", 400),
        ({"status": "DELIVERED"}, 400),
        ({"messageID": MESSAGE_ID}, 400),
        ([wunderkind_callback("DELIVERED")], 400),
        ({"messageID": "a/../../b", "status": "DELIVERED"}, 400),
    ],
    ids=["invalid-json", "no-id", "no-status", "array", "traversal"],
)
def test_a_bad_body_is_refused_and_stores_nothing(callbacks: Any, body: Any, code: int) -> None:
    status, answer = wunderkind_post(callbacks, body)
    assert status == code
    assert answer["error"]["code"] == "InvalidCallback"
    assert table_items() == []
