"""The status API and the callbacks function called as their clients call them: each takes the
function's module (the `status_api` and `callbacks` fixtures) and answers the status code and the
JSON body."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from tests.conftest import TEST_ENV
from tests.support.aws import api_event, invoke
from tests.support.payloads import WUNDERKIND_CALLBACK_HEADERS, comapi_headers


def register(status_api: Any, body: dict[str, Any] | bytes) -> tuple[int, Any]:
    """POST /v1/messages."""
    code, _, answer = invoke(status_api, api_event("POST", "/v1/messages", body=body))
    return code, answer


def get(status_api: Any, path: str, **query: str) -> tuple[int, dict[str, str], Any]:
    """GET `path`: the status code, the headers and the body."""
    return invoke(status_api, api_event("GET", path, query=query or None))


def status_of(status_api: Any, provider: str, message_id: str) -> dict[str, Any]:
    """A message's current status (which must be there)."""
    code, _, body = get(status_api, f"/v1/messages/{provider}/{message_id}")
    assert code == 200, body
    result: dict[str, Any] = body
    return result


def events_of(status_api: Any, provider: str, message_id: str) -> list[dict[str, Any]]:
    """A message's history (which must be there)."""
    code, _, body = get(status_api, f"/v1/messages/{provider}/{message_id}/events")
    assert code == 200, body
    events: list[dict[str, Any]] = body["events"]
    return events


def comapi_post(callbacks: Any, body: Any, secret: str = TEST_ENV["COMAPI_WEBHOOK_SECRET"]) -> tuple[int, Any]:
    """A Comapi webhook, signed with `secret`: `body` as JSON, or bytes sent exactly as given."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    code, _, answer = invoke(
        callbacks, api_event("POST", "/v1/callbacks/comapi", body=raw, headers=comapi_headers(raw, secret))
    )
    return code, answer


def govdelivery_post(
    callbacks: Any, fields: dict[str, Any], token: str = TEST_ENV["GOVDELIVERY_CALLBACK_TOKEN"], as_json: bool = False
) -> tuple[int, Any]:
    """A TMS callback with its token in the query, the fields as a form (or JSON)."""
    body = json.dumps(fields) if as_json else urlencode(fields)
    content_type = "application/json" if as_json else "application/x-www-form-urlencoded"
    event = api_event(
        "POST", "/v1/callbacks/govdelivery", body=body, headers={"Content-Type": content_type}, query={"token": token}
    )
    code, _, answer = invoke(callbacks, event)
    return code, answer


def wunderkind_post(
    callbacks: Any, body: Any, headers: dict[str, str] | None = None, method: str = "POST"
) -> tuple[int, Any]:
    """A Wunderkind callback, with the configured static headers unless `headers` are given."""
    headers = WUNDERKIND_CALLBACK_HEADERS if headers is None else headers
    code, _, answer = invoke(callbacks, api_event(method, "/v1/callbacks/wunderkind", body=body, headers=headers))
    return code, answer
