"""A corpus of hostile requests across every endpoint: each gets a 4xx in the documented error
shape, and the table is exactly as it was afterwards."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from local.gateway import LambdaContext, proxy_event
from local.template import ApiRoute, api_routes
from tests.conftest import TEST_ENV
from tests.support.aws import table_items
from tests.support.payloads import WUNDERKIND_CALLBACK_HEADERS as WK
from tests.support.payloads import WUNDERKIND_MESSAGE_ID as MID
from tests.support.payloads import comapi_envelope, comapi_headers

REPLAYED = json.dumps(comapi_envelope("message.delivered", "delivered", "replayed-event")).encode()


def nested(depth: int) -> bytes:
    return b'{"provider": "wunderkind", "metadata": ' + b"[" * depth + b"]" * depth + b"}"


@dataclass
class Hostile:
    name: str
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    codes: tuple[int, ...] = (400, 404, 422)
    route_method: str | None = None  # the template route it arrives on, when the method differs


def wk(body: Any, headers: dict[str, str] | None = None, **kw: Any) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return {
        "method": "POST",
        "path": "/v1/callbacks/wunderkind",
        "body": raw,
        "headers": WK if headers is None else headers,
        **kw,
    }


CORPUS = [
    # GET /v1/messages/{provider}/{messageId}
    Hostile("status-unknown-provider", "GET", f"/v1/messages/acme/{MID}", codes=(404,)),
    Hostile("status-provider-uppercase", "GET", f"/v1/messages/WUNDERKIND/{MID}", codes=(422,)),
    Hostile("status-traversal-id", "GET", "/v1/messages/wunderkind/..%2F..%2Fetc%2Fpasswd", codes=(422,)),
    Hostile("status-nul-in-id", "GET", "/v1/messages/wunderkind/abc%00def", codes=(422,)),
    Hostile("status-newline-in-id", "GET", "/v1/messages/wunderkind/abc%0Adef", codes=(422,)),
    Hostile("status-10kb-id", "GET", "/v1/messages/wunderkind/" + "a" * 10_240, codes=(422,)),
    Hostile("status-unicode-id", "GET", "/v1/messages/wunderkind/%C3%B1and%C3%BA", codes=(422,)),
    Hostile("status-space-id", "GET", "/v1/messages/wunderkind/a%20b", codes=(422,)),
    Hostile(
        "status-refresh-not-bool", "GET", f"/v1/messages/wunderkind/{MID}", query={"refresh": "maybe"}, codes=(422,)
    ),
    Hostile("status-sql-ish-id", "GET", "/v1/messages/wunderkind/1'%20OR%20'1'='1", codes=(422,)),
    # GET /v1/messages/{provider}/{messageId}/events
    Hostile("events-unknown-provider", "GET", f"/v1/messages/acme/{MID}/events", codes=(404,)),
    Hostile("events-traversal-id", "GET", "/v1/messages/wunderkind/..%2F/events", codes=(422,)),
    Hostile("events-10kb-id", "GET", "/v1/messages/wunderkind/" + "b" * 10_240 + "/events", codes=(422,)),
    Hostile("events-unknown-message", "GET", "/v1/messages/wunderkind/never-seen-1/events", codes=(404,)),
    # GET /v1/messages/{provider}/{messageId}/recipients (nothing reaches TMS: it is unreachable here)
    Hostile("recipients-unknown-provider", "GET", "/v1/messages/acme/165532/recipients", codes=(404,)),
    Hostile("recipients-single-recipient-provider", "GET", f"/v1/messages/wunderkind/{MID}/recipients", codes=(404,)),
    Hostile("recipients-traversal-id", "GET", "/v1/messages/govdelivery/..%2F/recipients", codes=(422,)),
    Hostile(
        "recipients-unknown-status", "GET", "/v1/messages/govdelivery/1/recipients", query={"status": "x"}, codes=(422,)
    ),
    Hostile(
        "recipients-garbage-cursor",
        "GET",
        "/v1/messages/govdelivery/1/recipients",
        query={"cursor": "eyJwYWdlIjoiaHR0cDovL2V2aWwifQ"},  # {"page":"http://evil"}
        codes=(400,),
    ),
    Hostile(
        "recipients-unknown-query", "GET", "/v1/messages/govdelivery/1/recipients", query={"page": "2"}, codes=(400,)
    ),
    # GET /v1/messages?reference=
    Hostile("list-no-reference", "GET", "/v1/messages", codes=(422,)),
    Hostile("list-empty-reference", "GET", "/v1/messages", query={"reference": ""}, codes=(422,)),
    Hostile("list-10kb-reference", "GET", "/v1/messages", query={"reference": "r" * 10_240}, codes=(422,)),
    Hostile("list-control-reference", "GET", "/v1/messages", query={"reference": "order\x07"}, codes=(422,)),
    Hostile("list-limit-zero", "GET", "/v1/messages", query={"reference": "order-1", "limit": "0"}, codes=(422,)),
    Hostile("list-limit-huge", "GET", "/v1/messages", query={"reference": "order-1", "limit": "1e9"}, codes=(422,)),
    Hostile(
        "list-garbage-cursor", "GET", "/v1/messages", query={"reference": "order-1", "cursor": "x.y"}, codes=(400,)
    ),
    Hostile("list-unknown-query", "GET", "/v1/messages", query={"reference": "order-1", "page": "2"}, codes=(400,)),
    # POST /v1/messages
    Hostile("register-empty-body", "POST", "/v1/messages", headers={"Content-Type": "application/json"}),
    Hostile("register-null", "POST", "/v1/messages", b"null"),
    Hostile("register-array", "POST", "/v1/messages", b"[]"),
    Hostile(
        "register-array-of-a-valid-body",
        "POST",
        "/v1/messages",
        b'[{"provider": "wunderkind", "messageId": "arrtest1"}]',
        codes=(422,),
    ),
    Hostile(
        "register-10k-digit-number",
        "POST",
        "/v1/messages",
        b'{"provider": "comapi", "sendResponse": {"messageId": "m-1", "revision": ' + b"9" * 10_000 + b"}}",
        codes=(400,),
    ),
    Hostile("register-string", "POST", "/v1/messages", b'"wunderkind"'),
    Hostile("register-malformed", "POST", "/v1/messages", b"{provider: wunderkind}"),
    Hostile("register-truncated", "POST", "/v1/messages", b'{"provider": "wunderkind", "messageId": "ab'),
    Hostile("register-deeply-nested", "POST", "/v1/messages", nested(100_000)),
    Hostile(
        "register-nested-metadata",
        "POST",
        "/v1/messages",
        b'{"provider":"wunderkind","messageId":"a1","metadata":{"k":{"x":"y"}}}',
    ),
    Hostile("register-non-utf8", "POST", "/v1/messages", b'{"provider": "wunderkind", "messageId": "\xff\xfe"}'),
    Hostile("register-provider-number", "POST", "/v1/messages", b'{"provider": 7, "messageId": "a1"}'),
    Hostile("register-id-list", "POST", "/v1/messages", b'{"provider": "wunderkind", "messageId": ["a1"]}'),
    Hostile(
        "register-id-10kb",
        "POST",
        "/v1/messages",
        json.dumps({"provider": "wunderkind", "messageId": "c" * 10_240}).encode(),
    ),
    Hostile("register-id-traversal", "POST", "/v1/messages", b'{"provider": "wunderkind", "messageId": "../../x"}'),
    Hostile("register-id-control", "POST", "/v1/messages", b'{"provider": "wunderkind", "messageId": "a\\u0000b"}'),
    Hostile("register-missing-provider", "POST", "/v1/messages", b'{"messageId": "a1"}'),
    Hostile(
        "register-unknown-provider",
        "POST",
        "/v1/messages",
        b'{"provider": "acme", "messageId": "a1"}',
        codes=(404, 422),
    ),
    Hostile(
        "register-both-forms",
        "POST",
        "/v1/messages",
        json.dumps({"provider": "wunderkind", "messageId": "a1", "sendResponse": {"messageId": "a1"}}).encode(),
    ),
    Hostile(
        "register-extra-field",
        "POST",
        "/v1/messages",
        b'{"provider": "wunderkind", "messageId": "a1", "status": "delivered"}',
    ),
    Hostile(
        "register-metadata-list",
        "POST",
        "/v1/messages",
        b'{"provider": "wunderkind", "messageId": "a1", "metadata": ["x"]}',
    ),
    Hostile(
        "register-metadata-too-many",
        "POST",
        "/v1/messages",
        json.dumps(
            {"provider": "wunderkind", "messageId": "a1", "metadata": {f"k{n}": "v" for n in range(21)}}
        ).encode(),
    ),
    Hostile(
        "register-metadata-long-value",
        "POST",
        "/v1/messages",
        json.dumps({"provider": "wunderkind", "messageId": "a1", "metadata": {"k": "v" * 1000}}).encode(),
    ),
    Hostile(
        "register-reference-newline",
        "POST",
        "/v1/messages",
        b'{"provider": "wunderkind", "messageId": "a1", "reference": "a\\nb"}',
    ),
    Hostile(
        "register-send-response-string", "POST", "/v1/messages", b'{"provider": "comapi", "sendResponse": "d8e296bb"}'
    ),
    Hostile(
        "register-send-response-wrong-shape",
        "POST",
        "/v1/messages",
        b'{"provider": "govdelivery", "sendResponse": {"id": {"$ne": 1}}}',
    ),
    Hostile(
        "register-send-response-usajobs-missing", "POST", "/v1/messages", b'{"provider": "usajobs", "sendResponse": {}}'
    ),
    Hostile(
        "register-huge-body",
        "POST",
        "/v1/messages",
        b'{"provider": "wunderkind", "messageId": "a1", "x": "' + b"x" * 300_000 + b'"}',
        codes=(413,),
    ),
    Hostile(
        "register-form-encoded",
        "POST",
        "/v1/messages",
        b"provider=wunderkind&messageId=a1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        codes=(415,),
    ),
    Hostile(
        "register-text-plain",
        "POST",
        "/v1/messages",
        b'{"provider": "wunderkind", "messageId": "a1"}',
        headers={"Content-Type": "text/plain"},
        codes=(415,),
    ),
    Hostile(
        "register-unknown-query",
        "POST",
        "/v1/messages",
        b'{"provider": "wunderkind", "messageId": "a1"}',
        query={"foo": "bar"},
        codes=(400,),
    ),
    Hostile(
        "register-batch-over-the-cap",
        "POST",
        "/v1/messages",
        json.dumps(
            {"provider": "comapi", "sendResponse": [{"index": n, "messageId": f"b-{n}"} for n in range(101)]}
        ).encode(),
        codes=(422,),
    ),
    Hostile("register-wrong-method", "DELETE", "/v1/messages", codes=(404,), route_method="POST"),
    # POST/PUT /v1/callbacks/wunderkind
    Hostile("wk-no-credentials", **wk({"messageID": MID, "status": "DELIVERED"}, headers={}), codes=(401,)),
    Hostile(
        "wk-wrong-secret",
        **wk({"messageID": MID, "status": "DELIVERED"}, headers={**WK, "X-Client-Secret": "guess"}),
        codes=(401,),
    ),
    Hostile(
        "wk-wrong-id",
        **wk({"messageID": MID, "status": "DELIVERED"}, headers={**WK, "X-Client-ID": "guess"}),
        codes=(401,),
    ),
    Hostile(
        "wk-stale-secret",
        **wk({"messageID": MID, "status": "DELIVERED"}, headers={**WK, "X-Client-Secret": "wk-callback-secret-0ld"}),
        codes=(401,),
    ),
    Hostile(
        "wk-credentials-in-query",
        **wk({"messageID": MID, "status": "DELIVERED"}, headers={}, query={"X-Client-Secret": WK["X-Client-Secret"]}),
        codes=(401,),
    ),
    Hostile("wk-malformed", **wk(b"{messageID"), codes=(400,)),
    Hostile("wk-array", **wk([{"messageID": MID, "status": "DELIVERED"}]), codes=(400,)),
    Hostile("wk-id-10kb", **wk({"messageID": "d" * 10_240, "status": "DELIVERED"}), codes=(400,)),
    Hostile("wk-id-traversal", **wk({"messageID": "../../etc", "status": "DELIVERED"}), codes=(400,)),
    Hostile("wk-status-control-chars", **wk({"messageID": MID, "status": "DELIVERED\u0000"}), codes=(400,)),
    Hostile("wk-status-object", **wk({"messageID": MID, "status": {"$gt": ""}}), codes=(400,)),
    Hostile("wk-status-huge", **wk({"messageID": MID, "status": "X" * 5000}), codes=(400,)),
    Hostile("wk-non-utf8", **wk(b'{"messageID": "\xff", "status": "DELIVERED"}'), codes=(400,)),
    Hostile("wk-huge-body", **wk(b"[" + b"0," * 600_000 + b"0]"), codes=(413,)),
    # POST /v1/callbacks/comapi
    Hostile("comapi-no-signature", "POST", "/v1/callbacks/comapi", REPLAYED, codes=(401,)),
    Hostile(
        "comapi-wrong-signature",
        "POST",
        "/v1/callbacks/comapi",
        REPLAYED,
        headers={"X-Comapi-Signature": "0" * 40},
        codes=(401,),
    ),
    Hostile(
        "comapi-stale-secret",
        "POST",
        "/v1/callbacks/comapi",
        REPLAYED,
        headers=comapi_headers(REPLAYED, "old-secret"),
        codes=(401,),
    ),
    Hostile(
        "comapi-tampered",
        "POST",
        "/v1/callbacks/comapi",
        REPLAYED.replace(b"delivered", b"failed"),
        headers=comapi_headers(REPLAYED),
        codes=(401,),
    ),
    Hostile(
        "comapi-reformatted",
        "POST",
        "/v1/callbacks/comapi",
        json.dumps(json.loads(REPLAYED), indent=1).encode(),
        headers=comapi_headers(REPLAYED),
        codes=(401,),
    ),
    Hostile(
        "comapi-signed-garbage",
        "POST",
        "/v1/callbacks/comapi",
        b"\xff\xfe",
        headers=comapi_headers(b"\xff\xfe"),
        codes=(400,),
    ),
    Hostile(
        "comapi-signed-no-event-id",
        "POST",
        "/v1/callbacks/comapi",
        b'{"name": "message.sent", "payload": {"id": "abc"}}',
        headers=comapi_headers(b'{"name": "message.sent", "payload": {"id": "abc"}}'),
        codes=(400,),
    ),
    Hostile("comapi-put", "PUT", "/v1/callbacks/comapi", REPLAYED, headers=comapi_headers(REPLAYED), codes=(400,)),
    # POST /v1/callbacks/govdelivery
    Hostile(
        "tms-no-token",
        "POST",
        "/v1/callbacks/govdelivery",
        urlencode({"status": "sent"}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        codes=(401,),
    ),
    Hostile(
        "tms-wrong-token",
        "POST",
        "/v1/callbacks/govdelivery",
        urlencode({"status": "sent"}).encode(),
        query={"token": "guess"},
        codes=(401,),
    ),
    Hostile(
        "tms-token-in-header",
        "POST",
        "/v1/callbacks/govdelivery",
        urlencode({"status": "sent"}).encode(),
        headers={"token": TEST_ENV["GOVDELIVERY_CALLBACK_TOKEN"]},
        codes=(401,),
    ),
    Hostile(
        "tms-no-message-url",
        "POST",
        "/v1/callbacks/govdelivery",
        urlencode({"status": "sent"}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        query={"token": TEST_ENV["GOVDELIVERY_CALLBACK_TOKEN"]},
        codes=(400,),
    ),
    Hostile(
        "tms-traversal-url",
        "POST",
        "/v1/callbacks/govdelivery",
        urlencode({"status": "sent", "message_url": "https://x/messages/sms/..%2F..%2Fadmin"}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        query={"token": TEST_ENV["GOVDELIVERY_CALLBACK_TOKEN"]},
        codes=(400,),
    ),
    # other providers
    Hostile("usajobs-callback", "POST", "/v1/callbacks/usajobs", b'{"responseId": "x"}', codes=(404,)),
    Hostile("unknown-provider-callback", "POST", "/v1/callbacks/acme", b"{}", codes=(404,)),
    Hostile("provider-path-traversal-callback", "POST", "/v1/callbacks/..%2Fwunderkind", b"{}", codes=(404, 422)),
    # /v1/subscriptions: nothing stored for a refused target, an unknown filter word or an unknown id
    Hostile("subscription-metadata-target", "POST", "/v1/subscriptions", b'{"url": "https://169.254.169.254/"}'),
    Hostile("subscription-decimal-loopback", "POST", "/v1/subscriptions", b'{"url": "http://2130706433/"}'),
    Hostile(
        "subscription-unknown-status",
        "POST",
        "/v1/subscriptions",
        b'{"url": "https://93.184.216.34/", "filter": {"statuses": ["read"]}}',
    ),
    Hostile("subscription-query", "GET", "/v1/subscriptions", query={"all": "1"}),
    Hostile("subscription-unknown-id", "GET", "/v1/subscriptions/nope"),
    Hostile("subscription-id-traversal", "GET", "/v1/subscriptions/..%2F..%2Fmessages"),
    Hostile("subscription-delete-unknown", "DELETE", "/v1/subscriptions/nope"),
    Hostile("subscription-rotate-unknown", "POST", "/v1/subscriptions/nope/rotate-secret"),
    Hostile("subscription-deliveries-limit", "GET", "/v1/subscriptions/nope/deliveries", query={"limit": "0"}),
    # /v1/reports/outcomes: a window that is not one, or too long
    Hostile(
        "report-huge-window",
        "GET",
        "/v1/reports/outcomes",
        query={"provider": "wunderkind", "from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59Z"},
        codes=(400,),
    ),
    Hostile(
        "report-sql-in-provider",
        "GET",
        "/v1/reports/outcomes",
        query={"provider": "wunderkind' OR 1=1", "from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"},
        codes=(422,),
    ),
]


def route_for(case: Hostile) -> ApiRoute:
    method = case.route_method or case.method
    return next(r for r in api_routes() if r.method == method and r.pattern.match(case.path))


def test_the_corpus_is_large_and_covers_every_route() -> None:
    assert len(CORPUS) >= 60
    assert len({case.name for case in CORPUS}) == len(CORPUS)
    assert {(r.method, r.path) for r in api_routes()} <= {(route_for(c).method, route_for(c).path) for c in CORPUS}


@pytest.fixture
def seeded(aws: None) -> list[dict[str, Any]]:
    """A table with a registered message and an accepted Comapi event (which the corpus replays)."""
    import importlib

    status_api = importlib.import_module("functions.status_api.app")
    callbacks = importlib.import_module("functions.callbacks.app")
    register = proxy_event(
        route_for(Hostile("", "POST", "/v1/messages")),
        "POST",
        "/v1/messages",
        [],
        [("Content-Type", "application/json")],
        json.dumps({"provider": "wunderkind", "messageId": MID}).encode(),
    )
    assert status_api.lambda_handler(register, LambdaContext("s", 10))["statusCode"] == 201
    comapi = proxy_event(
        route_for(Hostile("", "POST", "/v1/callbacks/comapi")),
        "POST",
        "/v1/callbacks/comapi",
        [],
        list(comapi_headers(REPLAYED).items()),
        REPLAYED,
    )
    assert callbacks.lambda_handler(comapi, LambdaContext("c", 10))["statusCode"] == 200
    return table_items()


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_a_hostile_request_gets_a_4xx_in_the_error_shape_and_changes_nothing(
    seeded: list[dict[str, Any]], case: Hostile
) -> None:
    import importlib

    route = route_for(case)
    headers = {"Content-Type": "application/json", **case.headers} if case.body else dict(case.headers)
    event = proxy_event(route, case.method, case.path, list(case.query.items()), list(headers.items()), case.body)
    result = importlib.import_module(route.module).lambda_handler(event, LambdaContext("hostile", 10))
    assert result["statusCode"] in case.codes, result["body"][:500]
    body = json.loads(result["body"])
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "target", "details"}
    assert table_items() == seeded


def test_a_replayed_comapi_event_is_acknowledged_as_a_duplicate_and_changes_nothing(
    seeded: list[dict[str, Any]],
) -> None:
    """Comapi signs no timestamp, so a replay is indistinguishable from Comapi's own retry: it
    must get a 2xx (or Comapi retries for a day), and deduplication by eventId makes it inert."""
    from functions.callbacks import app

    event = proxy_event(
        route_for(Hostile("", "POST", "/v1/callbacks/comapi")),
        "POST",
        "/v1/callbacks/comapi",
        [],
        list(comapi_headers(REPLAYED).items()),
        REPLAYED,
    )
    result = app.lambda_handler(event, LambdaContext("c", 10))
    assert (result["statusCode"], json.loads(result["body"])["duplicates"]) == (200, 1)
    assert table_items() == seeded
