"""The callbacks function on moto, whichever provider calls: unknown providers, storage failures
and their retries, metrics."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from tests.support.api import status_of, wunderkind_post
from tests.support.aws import api_event, invoke, table_items
from tests.support.payloads import WUNDERKIND_CALLBACK_HEADERS as CALLBACK_HEADERS
from tests.support.payloads import WUNDERKIND_MESSAGE_ID as MESSAGE_ID
from tests.support.payloads import wunderkind_callback


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
        event = api_event(
            "POST", "/v1/callbacks/wunderkind", body=wunderkind_callback("DELIVERED"), headers=CALLBACK_HEADERS
        )
        code, headers, body = invoke(callbacks, event)
    assert code == 503
    assert body["error"]["code"] == "ServiceUnavailable"
    assert "Retry-After" in headers
    code, body = wunderkind_post(callbacks, wunderkind_callback("DELIVERED"))
    assert (code, body["accepted"]) == (200, 1)
    assert status_of(status_api, "wunderkind", MESSAGE_ID)["status"] == "delivered"


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
        assert wunderkind_post(callbacks, wunderkind_callback("DELIVERED"))[0] == 503
    code, body = wunderkind_post(callbacks, wunderkind_callback("DELIVERED"))
    assert (code, body["duplicates"]) == (200, 1)
    assert status_of(status_api, "wunderkind", MESSAGE_ID)["status"] == "delivered"


def test_callbacks_are_counted_per_provider_and_rejections_per_reason(
    callbacks: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    wunderkind_post(callbacks, wunderkind_callback("DELIVERED"))
    wunderkind_post(callbacks, wunderkind_callback("DELIVERED"), headers={})
    wunderkind_post(callbacks, "{broken")
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
