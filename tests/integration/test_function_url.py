"""The callbacks through their Lambda function URL (payload format 2.0): the same routes, checks,
answers and error shape as through the API, in the answer shape a function URL takes."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

from local.gateway import LambdaContext
from tests.support.api import status_of
from tests.support.aws import api_event, invoke, table_items, url_event
from tests.support.payloads import (
    WUNDERKIND_CALLBACK_HEADERS,
    WUNDERKIND_MESSAGE_ID,
    comapi_envelope,
    comapi_headers,
    wunderkind_callback,
)

CONTEXT = LambdaContext("CallbacksFunction", 10)


def test_a_comapi_webhook_through_the_function_url_is_taken_in(callbacks: Any, status_api: Any) -> None:
    raw = json.dumps(comapi_envelope("message.sent", "sent")).encode()
    result = callbacks.lambda_handler(
        url_event("POST", "/v1/callbacks/comapi", body=raw, headers=comapi_headers(raw)), CONTEXT
    )
    assert result["statusCode"] == 200
    # A function URL ignores multiValueHeaders: everything is in `headers`.
    assert "multiValueHeaders" not in result
    assert result["headers"]["Content-Type"] == "application/json"
    assert json.loads(result["body"]) == {"accepted": 1, "duplicates": 0, "ignored": 0}
    assert status_of(status_api, "comapi", comapi_envelope()["payload"]["id"])["status"] == "sent"


def test_a_wunderkind_put_through_the_function_url_matches_the_api_answer(callbacks: Any) -> None:
    body = wunderkind_callback("DELIVERED")
    through_url = callbacks.lambda_handler(
        url_event("PUT", "/v1/callbacks/wunderkind", body=body, headers=WUNDERKIND_CALLBACK_HEADERS), CONTEXT
    )
    code, _, through_api = invoke(
        callbacks, api_event("PUT", "/v1/callbacks/wunderkind", body=body, headers=WUNDERKIND_CALLBACK_HEADERS)
    )
    assert (through_url["statusCode"], code) == (200, 200)
    # The second is a duplicate of the first: one event stored, whichever door it came in by.
    assert json.loads(through_url["body"])["accepted"] == 1
    assert through_api["duplicates"] == 1
    assert sum(1 for item in table_items() if WUNDERKIND_MESSAGE_ID in str(item["pk"])) == 2


def test_a_form_encoded_body_the_url_base64_encodes_and_its_query_token_reach_the_provider(callbacks: Any) -> None:
    """A function URL base64-encodes a body that is not text (GovDelivery's form) and passes the
    raw query string: a wrong token is refused as through the API."""
    form = urlencode({"status": "sent", "message_url": "https://tms.example/messages/sms/1"})
    event = url_event(
        "POST",
        "/v1/callbacks/govdelivery",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        query="token=wrong",
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]).decode() == form
    result = callbacks.lambda_handler(event, CONTEXT)
    assert (result["statusCode"], json.loads(result["body"])["error"]["code"]) == (401, "Unauthorized")
    assert table_items() == []


def test_what_the_function_url_refuses_is_in_the_error_shape(callbacks: Any) -> None:
    cases = [
        (url_event("POST", "/v1/callbacks/acme", body={"a": 1}), 404, "ProviderNotFound"),
        (url_event("POST", "/v1/messages", body={"a": 1}), 404, "RouteNotFound"),
        (url_event("GET", "/v1/callbacks/comapi"), 404, "RouteNotFound"),
        (url_event("POST", "/v1/callbacks/comapi", body="x" * (1024 * 1024 + 1)), 413, "PayloadTooLarge"),
    ]
    for event, status, code in cases:
        result = callbacks.lambda_handler(event, CONTEXT)
        document = json.loads(result["body"])
        assert (result["statusCode"], document["error"]["code"]) == (status, code), event["rawPath"]
    assert table_items() == []


def test_a_repeated_credential_header_is_refused_at_both_doors(callbacks: Any) -> None:
    """API Gateway's `headers` keeps a repeated header's last copy and a function URL joins the
    copies with commas: both doors read the joined value, so a wrong copy beside the right one is
    refused at both (never accepted at one because the right copy came last)."""
    secret_name = next(name for name in WUNDERKIND_CALLBACK_HEADERS if name.lower().endswith("secret"))
    right = WUNDERKIND_CALLBACK_HEADERS[secret_name]
    body = wunderkind_callback("DELIVERED")
    rest = api_event("POST", "/v1/callbacks/wunderkind", body=body, headers=WUNDERKIND_CALLBACK_HEADERS)
    rest["multiValueHeaders"][secret_name] = ["wrong", right]
    code, _, answer = invoke(callbacks, rest)
    assert (code, answer["error"]["code"]) == (401, "Unauthorized")
    url = url_event("POST", "/v1/callbacks/wunderkind", body=body, headers=WUNDERKIND_CALLBACK_HEADERS)
    url["headers"][secret_name.lower()] = f"wrong,{right}"
    result = callbacks.lambda_handler(url, CONTEXT)
    assert (result["statusCode"], json.loads(result["body"])["error"]["code"]) == (401, "Unauthorized")
    assert table_items() == []


def test_a_method_in_lower_case_is_no_route_at_either_door(callbacks: Any) -> None:
    result = callbacks.lambda_handler(
        url_event(
            "post",
            "/v1/callbacks/wunderkind",
            body=wunderkind_callback("DELIVERED"),
            headers=WUNDERKIND_CALLBACK_HEADERS,
        ),
        CONTEXT,
    )
    assert result["statusCode"] == 404, result
    assert json.loads(result["body"])["error"]["code"] == "RouteNotFound"
    assert table_items() == []


def test_a_body_that_is_not_utf8_is_refused(callbacks: Any) -> None:
    """UTF-16 and UTF-32 (which Python's JSON reader would take) are not the UTF-8 JSON a provider
    sends: 400, nothing stored. A UTF-8 byte order mark is still UTF-8."""
    body = wunderkind_callback("DELIVERED")
    refused = [json.dumps(body).encode("utf-16"), json.dumps(body).encode("utf-32")]
    for raw in refused:
        event = url_event("POST", "/v1/callbacks/wunderkind", body=raw, headers=WUNDERKIND_CALLBACK_HEADERS)
        result = callbacks.lambda_handler(event, CONTEXT)
        assert result["statusCode"] == 400, (raw, result)
        assert json.loads(result["body"])["error"]["code"] == "InvalidCallback"
    assert table_items() == []
    with_bom = b"\xef\xbb\xbf" + json.dumps(body).encode()
    event = url_event("POST", "/v1/callbacks/wunderkind", body=with_bom, headers=WUNDERKIND_CALLBACK_HEADERS)
    assert callbacks.lambda_handler(event, CONTEXT)["statusCode"] == 200
