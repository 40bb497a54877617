"""The callbacks function on moto: authenticated Wunderkind callbacks change the status, nothing else does."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from tests.integration.conftest import CALLBACK_HEADERS, table_items
from tests.support import api_event, invoke

MESSAGE_ID = "f9eea82a-ce63-4dfa-ae8e-09b891f446cc"


def wunderkind_callback(status: str, message_id: str = MESSAGE_ID, **extra: Any) -> dict[str, Any]:
    return {
        "messageID": message_id,
        "status": status,
        "phone": "+15551230000",
        "email": None,
        "callbackData": '{"order":"1234"}',
        **extra,
    }


def post(callbacks: Any, body: Any, headers: dict[str, str] | None = None, method: str = "POST") -> Any:
    return invoke(
        callbacks,
        api_event(
            method, "/v1/callbacks/wunderkind", body=body, headers=CALLBACK_HEADERS if headers is None else headers
        ),
    )


def current(status_api: Any, message_id: str = MESSAGE_ID) -> dict[str, Any]:
    code, _, body = invoke(status_api, api_event("GET", f"/v1/messages/wunderkind/{message_id}"))
    assert code == 200, body
    status: dict[str, Any] = body
    return status


def test_a_callback_alone_delivers_an_unregistered_message(callbacks: Any, status_api: Any) -> None:
    code, _, body = post(callbacks, wunderkind_callback("DELIVERED"))
    assert (code, body) == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    status = current(status_api)
    assert status["status"] == "delivered"
    assert status["final"] is True
    assert status["providerStatus"] == "DELIVERED"
    assert status["source"] == "callback"
    assert status["nextPollAt"] is None


def test_put_is_accepted_for_wunderkind(callbacks: Any, status_api: Any) -> None:
    code, _, _ = post(callbacks, wunderkind_callback("FAILED_TO_DELIVERY"), method="PUT")
    assert code == 200
    status = current(status_api)
    assert (status["status"], status["reason"]) == ("undelivered", "carrier_error")


def test_the_sequence_of_a_real_delivery_ends_delivered_and_counts_each_change(callbacks: Any, status_api: Any) -> None:
    for word in ("PENDING_TO_SEND", "SENDING", "DELIVERED"):
        assert post(callbacks, wunderkind_callback(word))[0] == 200
    status = current(status_api)
    assert (status["status"], status["version"]) == ("delivered", 3)


def test_reversed_and_duplicated_callbacks_end_in_the_same_status(callbacks: Any, status_api: Any) -> None:
    results = [
        post(callbacks, wunderkind_callback(word))[2]
        for word in ("DELIVERED", "SENDING", "DELIVERED", "PENDING_TO_SEND")
    ]
    assert [r["duplicates"] for r in results] == [0, 0, 1, 0]
    status = current(status_api)
    assert (status["status"], status["version"]) == ("delivered", 1)
    code, _, history = invoke(status_api, api_event("GET", f"/v1/messages/wunderkind/{MESSAGE_ID}/events"))
    assert code == 200
    assert sorted(e["providerStatus"] for e in history["events"]) == ["DELIVERED", "PENDING_TO_SEND", "SENDING"]
    assert [e["changedStatus"] for e in history["events"] if e["providerStatus"] == "DELIVERED"] == [True]
    assert all(not e["changedStatus"] for e in history["events"] if e["providerStatus"] != "DELIVERED")


def test_an_unknown_word_is_kept_in_history_without_changing_the_status(callbacks: Any, status_api: Any) -> None:
    post(callbacks, wunderkind_callback("SENDING"))
    code, _, body = post(callbacks, wunderkind_callback("QUEUED_AT_CARRIER"))
    assert (code, body["accepted"]) == (200, 1)
    assert current(status_api)["status"] == "sending"
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
    code, _, body = post(callbacks, wunderkind_callback("DELIVERED"), headers=headers)
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
    status, _, answer = post(callbacks, body)
    assert status == code
    assert answer["error"]["code"] == "InvalidCallback"
    assert table_items() == []


def test_an_unknown_provider_is_404_and_stores_nothing(callbacks: Any) -> None:
    code, _, body = invoke(
        callbacks,
        api_event("POST", "/v1/callbacks/acme", body=wunderkind_callback("DELIVERED"), headers=CALLBACK_HEADERS),
    )
    assert (code, body["error"]["code"]) == (404, "ProviderNotFound")
    assert table_items() == []


def test_a_storage_failure_answers_503_so_the_provider_retries_and_the_retry_lands(
    callbacks: Any, status_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textstatus import runtime

    client = runtime.store()._client

    def unreachable(*_: Any, **__: Any) -> Any:
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    with monkeypatch.context() as patch:
        patch.setattr(client, "put_item", unreachable)
        code, headers, body = post(callbacks, wunderkind_callback("DELIVERED"))
    assert code == 503
    assert body["error"]["code"] == "ServiceUnavailable"
    assert "Retry-After" in headers
    code, _, body = post(callbacks, wunderkind_callback("DELIVERED"))
    assert (code, body["accepted"]) == (200, 1)
    assert current(status_api)["status"] == "delivered"


def test_a_failure_between_the_two_writes_is_completed_by_the_retry(
    callbacks: Any, status_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textstatus import runtime

    client = runtime.store()._client

    def throttled(*_: Any, **__: Any) -> Any:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")

    with monkeypatch.context() as patch:
        patch.setattr(client, "update_item", throttled)
        assert post(callbacks, wunderkind_callback("DELIVERED"))[0] == 503
    code, _, body = post(callbacks, wunderkind_callback("DELIVERED"))
    assert (code, body["duplicates"]) == (200, 1)
    assert current(status_api)["status"] == "delivered"


def test_callbacks_are_counted_per_provider_and_rejections_per_reason(
    callbacks: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    post(callbacks, wunderkind_callback("DELIVERED"))
    post(callbacks, wunderkind_callback("DELIVERED"), headers={})
    post(callbacks, "{broken")
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]

    def value(record: dict[str, Any], name: str) -> float:
        raw = record[name]
        return float(raw[0] if isinstance(raw, list) else raw)

    accepted = [r for r in records if "CallbacksAccepted" in r]
    assert [(r["provider"], value(r, "CallbacksAccepted")) for r in accepted] == [("wunderkind", 1.0)]
    rejected = sorted((r["reason"], value(r, "CallbacksRejected")) for r in records if "CallbacksRejected" in r)
    assert rejected == [("InvalidCallback", 1.0), ("Unauthorized", 1.0)]
    transitions = [(r["provider"], r["status"]) for r in records if "StatusTransitions" in r]
    assert transitions == [("wunderkind", "delivered")]
