"""Hostile values in what providers send: times and numbers of every shape, through every adapter
path that reads them (callbacks through the callbacks function, polls and lookups through a
`requests` stub, send responses through the status API), each with its documented outcome and
never an exception escaping.

A value is written into the provider's own payload as raw JSON text, so values JSON cannot hold
(an integer of 10,000 digits) reach the parser exactly as a provider would send them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.conftest import TEST_ENV
from tests.support.adapters import comapi_adapter, govdelivery_adapter, usajobs_adapter, wunderkind_adapter
from tests.support.api import comapi_post, register
from tests.support.aws import api_event, invoke, table_items
from tests.support.payloads import COMAPI_MESSAGE_ID as MESSAGE_ID
from tests.support.payloads import NOW, comapi_envelope
from textstatus.errors import ProviderBadResponseError
from textstatus.events import Observation
from textstatus.providers.base import ProviderAdapter
from textstatus.providers.payloads import parse_json

HOLE = '"__HOSTILE__"'

# Raw JSON text of hostile times and numbers.
TIMES = {
    "year-0001-plus-offset": '"0001-01-01T00:00:00+01:00"',
    "year-9999-minus-offset": '"9999-12-31T23:59:59-01:00"',
    "year-275760": '"+275760-09-13T00:00:00Z"',
    "before-2000": '"1999-12-31T23:59:59Z"',
    "far-future": '"2100-01-01T00:00:00Z"',
    "month-13": '"2026-13-45T99:99:99Z"',
    "empty": '""',
    "null": "null",
    "text-null": '"null"',
    "long-text": '"' + "2" * 10_000 + '"',
    "integer-10000-digits": "9" * 10_000,
    "integer-4000-digits": "9" * 4_000,
    "1e999": "1e999",
    "NaN": "NaN",
    "-Infinity": "-Infinity",
    "true": "true",
    "object": '{"$date": 1}',
}
NUMBERS = {
    "integer-10000-digits": "9" * 10_000,
    "integer-4000-digits": "9" * 4_000,
    "over-a-billion": str(10**12),
    "negative": "-5",
    "float": "2.5",
    "1e999": "1e999",
    "NaN": "NaN",
    "string": '"2"',
    "true": "true",
    "false": "false",
    "null": "null",
    "list": "[1, 2]",
}

NOT_TEXT = {
    name: fragment
    for name, fragment in NUMBERS.items()
    # A number too long to read is kept as its text: text, then.
    if not isinstance(parse_json(fragment), str)
}


def readable(fragment: str) -> bool:
    """Whether the value can be read from a provider's JSON at all (an integer of more than
    4,300 digits is read as its text: a value, just not a usable number)."""
    try:
        parse_json(fragment)
    except ValueError:
        return False
    return True


def accepted_by_the_api(fragment: str) -> bool:
    """Whether a client's request may hold the value: the API refuses a body with a number too
    long to read (400, target body) before looking into it."""
    try:
        json.loads(fragment)
    except ValueError:
        return False
    return True


def with_value(document: Any, fragment: str) -> bytes:
    """The document as JSON, each HOLE replaced by the raw fragment."""
    return json.dumps(document).replace(HOLE, fragment).encode()


def hole() -> str:
    return json.loads(HOLE)  # type: ignore[no-any-return]


# callbacks through the callbacks function ---------------------------------------------------


@pytest.mark.parametrize("fragment", TIMES.values(), ids=TIMES.keys())
def test_comapi_webhook_times_at_every_level(callbacks: Any, status_api: Any, fragment: str) -> None:
    event = comapi_envelope()
    event["payload"]["details"]["channelStatus"]["sms"]["updatedOn"] = hole()
    event["payload"]["updatedOn"] = hole()
    event["timestamp"] = hole()
    code, answer = comapi_post(callbacks, with_value(event, fragment))
    if not readable(fragment):
        assert (code, answer["error"]["code"]) == (400, "InvalidCallback")
        assert table_items() == []
        return
    assert (code, answer) == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    _, _, body = invoke(status_api, api_event("GET", f"/v1/messages/comapi/{MESSAGE_ID}/events"))
    (stored,) = body["events"]
    assert stored["providerEventAt"] == stored["receivedAt"]
    assert stored["status"] == "delivered"
    if fragment != "null":
        assert stored["providerDetail"].count("not usable") == 3
        assert len(stored["providerDetail"]) <= 500


@pytest.mark.parametrize("fragment", TIMES.values(), ids=TIMES.keys())
def test_comapi_webhook_batch_with_a_hostile_time_keeps_both_events(callbacks: Any, fragment: str) -> None:
    hostile = comapi_envelope("message.sent", "sent", "e2")
    hostile["payload"]["details"]["channelStatus"]["sms"]["updatedOn"] = hole()
    code, answer = comapi_post(callbacks, with_value([comapi_envelope(event_id="e1"), hostile], fragment))
    if readable(fragment):
        assert (code, answer) == (200, {"accepted": 2, "duplicates": 0, "ignored": 0})
    else:
        assert code == 400


@pytest.mark.parametrize("fragment", NUMBERS.values(), ids=NUMBERS.keys())
def test_comapi_webhook_numbers_in_status_details(callbacks: Any, fragment: str) -> None:
    event = comapi_envelope()
    event["payload"]["details"]["channelStatus"]["sms"]["details"] = {"code": hole(), "reason": "x"}
    event["revision"] = hole()
    code, answer = comapi_post(callbacks, with_value(event, fragment))
    if readable(fragment):
        assert (code, answer["accepted"]) == (200, 1)
    else:
        assert (code, answer["error"]["code"]) == (400, "InvalidCallback")


@pytest.mark.parametrize("fragment", NOT_TEXT.values(), ids=NOT_TEXT.keys())
def test_govdelivery_json_callback_with_hostile_values_is_refused_without_fetching(
    callbacks: Any, fragment: str
) -> None:
    # Every TMS callback field is text: a number in `message_url` or `status` names nothing.
    fields = {"status": hole(), "message_url": hole(), "sid": hole(), "completed_at": hole()}
    event = api_event(
        "POST",
        "/v1/callbacks/govdelivery",
        body=with_value(fields, fragment),
        headers={"Content-Type": "application/json"},
        query={"token": TEST_ENV["GOVDELIVERY_CALLBACK_TOKEN"]},
    )
    code, _, answer = invoke(callbacks, event)
    assert (code, answer["error"]["code"]) == (400, "InvalidCallback")
    assert table_items() == []


@pytest.mark.parametrize("fragment", NOT_TEXT.values(), ids=NOT_TEXT.keys())
def test_wunderkind_callback_with_hostile_values(callbacks: Any, fragment: str) -> None:
    headers = {
        "X-Client-ID": TEST_ENV["WUNDERKIND_CALLBACK_ID"],
        "X-Client-Secret": TEST_ENV["WUNDERKIND_CALLBACK_SECRET"],
    }
    body = with_value({"messageID": "f9eea82a-ce63-4dfa-ae8e-09b891f446cc", "status": hole()}, fragment)
    code, _, answer = invoke(callbacks, api_event("POST", "/v1/callbacks/wunderkind", body=body, headers=headers))
    assert (code, answer["error"]["code"]) == (400, "InvalidCallback")
    assert table_items() == []


# Values for the sender's correlation data: every number, and text and objects of every size.
VALUES = {**NUMBERS, **{name: TIMES[name] for name in ("empty", "text-null", "long-text", "object")}}


@pytest.mark.parametrize("fragment", VALUES.values(), ids=VALUES.keys())
def test_comapi_webhook_metadata_of_any_value_keeps_every_event(
    callbacks: Any, status_api: Any, env: pytest.MonkeyPatch, fragment: str
) -> None:
    # The sender's metadata, echoed: a hostile value as the whole of it, and as an entry.
    env.setenv("REFERENCE_KEY", "orderId")
    whole, entry = comapi_envelope(event_id="e1"), comapi_envelope("message.sent", "sent", "e2")
    whole["payload"]["metadata"] = hole()
    entry["payload"]["metadata"] = {"orderId": hole(), "shop": "eu-1"}
    code, answer = comapi_post(callbacks, with_value([whole, entry], fragment))
    assert (code, answer) == (200, {"accepted": 2, "duplicates": 0, "ignored": 0})
    _, _, status = invoke(status_api, api_event("GET", f"/v1/messages/comapi/{MESSAGE_ID}"))
    assert status["status"] == "delivered"
    assert all(isinstance(value, str) and len(value) <= 256 for value in status["metadata"].values())


@pytest.mark.parametrize("fragment", VALUES.values(), ids=VALUES.keys())
@pytest.mark.parametrize("where", ["callback-data", "in-callback-data"])
def test_wunderkind_callback_data_of_any_value_never_fails_the_callback(
    callbacks: Any, status_api: Any, env: pytest.MonkeyPatch, fragment: str, where: str
) -> None:
    env.setenv("REFERENCE_KEY", "orderId")
    headers = {
        "X-Client-ID": TEST_ENV["WUNDERKIND_CALLBACK_ID"],
        "X-Client-Secret": TEST_ENV["WUNDERKIND_CALLBACK_SECRET"],
    }
    message_id = "f9eea82a-ce63-4dfa-ae8e-09b891f446cc"
    document: dict[str, Any] = {"messageID": message_id, "status": "DELIVERED"}
    if where == "callback-data":  # the field itself holds the value, not the documented JSON string
        document["callbackData"] = hole()
        body = with_value(document, fragment)
    else:  # the JSON string holds it, as the sender wrote it
        document["callbackData"] = '{"orderId": ' + fragment + ', "shop": "eu-1"}'
        body = json.dumps(document).encode()
    code, _, answer = invoke(callbacks, api_event("POST", "/v1/callbacks/wunderkind", body=body, headers=headers))
    assert (code, answer) == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    _, _, status = invoke(status_api, api_event("GET", f"/v1/messages/wunderkind/{message_id}"))
    assert status["status"] == "delivered"
    assert all(isinstance(value, str) and len(value) <= 256 for value in status["metadata"].values())


# polls and lookups through a requests stub --------------------------------------------------


class StubSession:
    """Answers every provider call with one fixed response, as `requests` would hand it over."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body

    def request(self, method: str, url: str, **_: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = self.status
        response._content = self.body
        response.headers["Content-Type"] = "application/json"
        response.url = url
        return response


def stubbed(adapter: ProviderAdapter, body: bytes, status: int = 200) -> ProviderAdapter:
    adapter.http.__dict__["session"] = StubSession(status, body)
    return adapter


def usajobs(body: bytes) -> ProviderAdapter:
    return stubbed(usajobs_adapter(), body)


def comapi(body: bytes) -> ProviderAdapter:
    return stubbed(comapi_adapter(), body)


def govdelivery(body: bytes) -> ProviderAdapter:
    return stubbed(govdelivery_adapter(), body)


def wunderkind(body: bytes) -> ProviderAdapter:
    return stubbed(wunderkind_adapter(), body)


def poll(adapter: ProviderAdapter, fragment: str) -> Observation | None:
    """The poll's outcome: an observation, or ProviderBadResponseError when JSON cannot hold the body."""
    if not readable(fragment):
        with pytest.raises(ProviderBadResponseError):
            adapter.fetch_status("165532", NOW)
        return None
    observation = adapter.fetch_status("165532", NOW)
    assert observation is not None
    return observation


@pytest.mark.parametrize("fragment", NUMBERS.values(), ids=NUMBERS.keys())
def test_usajobs_poll_with_hostile_segments(fragment: str) -> None:
    body = {
        "responseId": "165532",
        "deliveryStatus": "Delivered",
        "successfulSegments": hole(),
        "failedSegments": hole(),
    }
    observation = poll(usajobs(with_value(body, fragment)), fragment)
    if observation is not None:
        assert observation.segments is None or all(0 <= n <= 10**9 for n in observation.segments.values())
        assert observation.status is not None


@pytest.mark.parametrize(
    "detail",
    ["9" * 5000 + ": Delivered", "4" * 10 + ": ten digits", "", "  : no code", "4007" + "0" * 5000, "\u0000" * 600],
    ids=["code-5000-digits", "code-10-digits", "empty", "no-code", "no-colon", "control-characters"],
)
def test_usajobs_poll_with_hostile_detail_codes(detail: str) -> None:
    body = json.dumps({"responseId": "165532", "deliveryStatus": "Failed", "deliveryStatusDetails": detail}).encode()
    observation = usajobs(body).fetch_status("165532", NOW)
    assert observation is not None
    assert observation.reason is not None
    assert len(observation.provider_detail or "") <= 500


@pytest.mark.parametrize("fragment", TIMES.values(), ids=TIMES.keys())
def test_comapi_poll_with_hostile_times(fragment: str) -> None:
    body = {"messageId": "165532", "status": "delivered", "_updatedOn": hole(), "sentOn": hole()}
    observation = poll(comapi(with_value(body, fragment)), fragment)
    if observation is not None:
        assert (observation.event_at, observation.provider_gave_time) == (NOW, False)
        assert fragment == "null" or "_updatedOn" in (observation.provider_detail or "")


@pytest.mark.parametrize("fragment", TIMES.values(), ids=TIMES.keys())
def test_govdelivery_poll_with_hostile_completed_at(fragment: str) -> None:
    body = {
        "status": "completed",
        "completed_at": hole(),
        "recipient_counts": {"total": 1, "new": 0, "sending": 0, "sent": 1, "failed": 0},
    }
    observation = poll(govdelivery(with_value(body, fragment)), fragment)
    if observation is not None:
        assert (observation.event_at, observation.provider_gave_time) == (NOW, False)
        assert observation.status is not None


@pytest.mark.parametrize("fragment", NUMBERS.values(), ids=NUMBERS.keys())
def test_govdelivery_poll_with_hostile_recipient_counts(fragment: str) -> None:
    counts = {key: hole() for key in ("total", "new", "sending", "sent", "failed")}
    body = {"status": "sending", "completed_at": "2026-11-22T10:00:00Z", "recipient_counts": counts}
    observation = poll(govdelivery(with_value(body, fragment)), fragment)
    if observation is not None:
        assert observation.recipients is None or all(0 <= n <= 10**9 for n in observation.recipients.values())


@pytest.mark.parametrize("fragment", NOT_TEXT.values(), ids=NOT_TEXT.keys())
def test_wunderkind_poll_with_a_status_that_is_not_a_word(fragment: str) -> None:
    with pytest.raises(ProviderBadResponseError):
        wunderkind(with_value({"status": hole()}, fragment)).fetch_status("165532", NOW)


@pytest.fixture
def provider_answers(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every provider call through the handlers answers the next body queued here."""
    queued: list[bytes] = []

    def request(self: requests.Session, method: str, url: str, **_: Any) -> requests.Response:
        return StubSession(200, queued[0]).request(method, url)

    monkeypatch.setattr(requests.Session, "request", request)
    return queued


@pytest.mark.parametrize("fragment", TIMES.values(), ids=TIMES.keys())
def test_comapi_lookup_through_the_status_api_with_hostile_times(
    status_api: Any, provider_answers: list[bytes], fragment: str
) -> None:
    provider_answers.append(with_value({"status": "sent", "_updatedOn": hole(), "sentOn": hole()}, fragment))
    code, _, answer = invoke(status_api, api_event("GET", "/v1/messages/comapi/m-1"))
    if readable(fragment):
        assert (code, answer["status"]) == (200, "sent")
        assert answer["providerEventAt"] >= "2026"
    else:
        assert code in (502, 503)
        assert answer["error"]["code"] == "ProviderBadResponse"


# send responses through the status API ------------------------------------------------------


def register_raw(status_api: Any, provider: str, raw_send_response: bytes) -> tuple[int, Any]:
    """Registration with the send response as raw JSON text."""
    return register(status_api, b'{"provider": "%s", "sendResponse": %s}' % (provider.encode(), raw_send_response))


@pytest.mark.parametrize(
    "fragment",
    [f for f in TIMES.values() if accepted_by_the_api(f)],
    ids=[k for k, f in TIMES.items() if accepted_by_the_api(f)],
)
def test_comapi_send_response_with_hostile_times(status_api: Any, fragment: str) -> None:
    response = {"messageId": "d8e296bb", "status": "processing", "_updatedOn": hole(), "sentOn": hole()}
    code, answer = register_raw(status_api, "comapi", with_value(response, fragment))
    assert code == 201, answer
    (message,) = answer["messages"]
    assert message["providerStatus"] == "processing"
    assert message["providerEventAt"] <= message["createdAt"]


@pytest.mark.parametrize(
    "fragment",
    [f for f in NUMBERS.values() if accepted_by_the_api(f)],
    ids=[k for k, f in NUMBERS.items() if accepted_by_the_api(f)],
)
def test_govdelivery_send_response_with_hostile_counts_and_ids(status_api: Any, fragment: str) -> None:
    counts = {key: hole() for key in ("total", "new", "sending", "sent", "failed")}
    response = {"status": "new", "_links": {"self": "/messages/sms/165532"}, "recipient_counts": counts}
    code, answer = register_raw(status_api, "govdelivery", with_value(response, fragment))
    assert code == 201, answer
    assert answer["messages"][0]["status"] == "accepted"
    code, answer = register_raw(status_api, "govdelivery", with_value({"id": hole(), "status": "new"}, fragment))
    value = json.loads(fragment)
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**18):
        assert code == 201  # TMS ids are text or numbers; a plain one of sane size is an id
    else:
        assert (code, answer["error"]["target"]) == (400, "sendResponse")


@pytest.mark.parametrize(
    "fragment",
    [f for f in NOT_TEXT.values() if accepted_by_the_api(f)],
    ids=[k for k, f in NOT_TEXT.items() if accepted_by_the_api(f)],
)
@pytest.mark.parametrize(
    ("provider", "field"), [("usajobs", "responseId"), ("wunderkind", "messageId"), ("comapi", "messageId")]
)
def test_a_send_response_id_that_is_a_number_is_refused(
    status_api: Any, provider: str, field: str, fragment: str
) -> None:
    code, answer = register_raw(status_api, provider, with_value({field: hole()}, fragment))
    assert (code, answer["error"]["target"]) == (400, "sendResponse")
    assert table_items() == []
