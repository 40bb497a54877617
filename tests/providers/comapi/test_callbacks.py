"""Comapi's signed webhooks and GovDelivery's token callbacks: authentication and parsing."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from textstatus.errors import CallbackAuthenticationError, CallbacksNotSupportedError, InvalidCallbackError
from textstatus.providers.callbacks import CallbackRequest
from textstatus.providers.comapi import ComapiAdapter, ComapiSettings
from textstatus.providers.govdelivery import GovdeliveryAdapter, GovdeliverySettings
from textstatus.providers.http import HttpSettings
from textstatus.providers.usajobs import UsajobsAdapter, UsajobsSettings
from textstatus.status import Status

NOW = datetime(2026, 11, 22, 10, 0, 3, tzinfo=UTC)
HTTP = HttpSettings(1, 1, 1)
SECRET = "comapi-webhook-secret-71c0"
MESSAGE_ID = "d8e296bb-97c4-4495-b98f-1e32e0b11628"


def comapi() -> ComapiAdapter:
    settings = ComapiSettings.from_env(
        {"COMAPI_API_SPACE_ID": "space-1", "COMAPI_TOKEN": "jwt", "COMAPI_WEBHOOK_SECRET": SECRET}
    )
    return ComapiAdapter(settings, HTTP)


def envelope(name: str = "message.delivered", status: str = "delivered", event_id: str = "evt-1") -> dict[str, Any]:
    """The envelope of PROVIDERS.md."""
    return {
        "eventId": event_id,
        "accountId": "12345",
        "apiSpaceId": "space-1",
        "name": name,
        "payload": {
            "id": MESSAGE_ID,
            "details": {
                "channel": "sms",
                "additionalInfo": {},
                "channelStatus": {"sms": {"status": status, "details": {}, "updatedOn": "2026-11-22T10:00:01.500Z"}},
            },
            "channelData": {},
            "metadata": {"order": "1234"},
            "updatedOn": "2026-11-22T10:00:01.600Z",
        },
        "revision": 2,
        "etag": "W/abc",
        "timestamp": "2026-11-22T10:00:02.000Z",
    }


def signed(body: bytes, secret: str = SECRET, **headers: str) -> CallbackRequest:
    signature = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return CallbackRequest("POST", {"x-comapi-signature": signature, **headers}, {}, body)


def test_comapi_signature_over_the_exact_body_authenticates() -> None:
    comapi().authenticate_callback(signed(json.dumps(envelope()).encode()))


def test_comapi_signature_in_upper_case_hex_authenticates() -> None:
    body = json.dumps(envelope()).encode()
    request = signed(body)
    comapi().authenticate_callback(
        CallbackRequest("POST", {"x-comapi-signature": request.headers["x-comapi-signature"].upper()}, {}, body)
    )


def test_comapi_signature_of_the_same_json_with_other_whitespace_is_refused() -> None:
    compact = json.dumps(envelope(), separators=(",", ":")).encode()
    spaced = json.dumps(envelope(), indent=2).encode()
    signature = signed(compact).headers["x-comapi-signature"]
    with pytest.raises(CallbackAuthenticationError):
        comapi().authenticate_callback(CallbackRequest("POST", {"x-comapi-signature": signature}, {}, spaced))


@pytest.mark.parametrize(
    "make",
    [
        lambda body: CallbackRequest("POST", {}, {}, body),
        lambda body: signed(body, secret="not-the-secret"),
        lambda body: CallbackRequest(
            "POST", {"x-comapi-signature": signed(body).headers["x-comapi-signature"]}, {}, body + b" "
        ),
        lambda body: CallbackRequest(
            "POST",
            {"x-comapi-signature": signed(body).headers["x-comapi-signature"]},
            {},
            body.replace(b"delivered", b"failed"),
        ),
        lambda body: CallbackRequest(
            "POST", {"x-comapi-signature": "sha1=" + signed(body).headers["x-comapi-signature"]}, {}, body
        ),
    ],
    ids=["missing", "wrong-secret", "appended-byte", "tampered", "prefixed"],
)
def test_comapi_missing_wrong_or_tampered_signatures_are_refused(make: Any) -> None:
    with pytest.raises(CallbackAuthenticationError):
        comapi().authenticate_callback(make(json.dumps(envelope()).encode()))


def test_comapi_envelope_becomes_an_observation_with_the_channel_time_and_event_id() -> None:
    parsed = comapi().parse_callback(signed(json.dumps(envelope()).encode()), NOW)
    (observation,) = parsed.observations
    assert (observation.message_id, observation.status, observation.provider_status) == (
        MESSAGE_ID,
        Status.DELIVERED,
        "delivered",
    )
    assert observation.event_at == datetime(2026, 11, 22, 10, 0, 1, 500_000, tzinfo=UTC)
    assert observation.event_id == "comapi:evt-1"


def test_comapi_batched_array_of_envelopes_with_ignored_event_kinds() -> None:
    batch = [
        envelope("message.sent", "sent", "e1"),
        envelope("message.inbound", "", "e2"),
        envelope("interaction.click", "", "e3"),
        envelope("message.delivered", "delivered", "e4"),
    ]
    parsed = comapi().parse_callback(signed(json.dumps(batch).encode()), NOW)
    assert [o.provider_status for o in parsed.observations] == ["sent", "delivered"]
    assert parsed.ignored == 2


def test_comapi_event_without_channel_status_falls_back_to_the_event_name() -> None:
    bare = envelope("message.expired")
    del bare["payload"]["details"]
    (observation,) = comapi().parse_callback(signed(json.dumps(bare).encode()), NOW).observations
    assert (observation.provider_status, observation.status) == ("expired", Status.UNDELIVERED)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b'"text"',
        json.dumps({**envelope(), "eventId": None}).encode(),
        json.dumps({**envelope(), "payload": {"id": "../x"}}).encode(),
    ],
    ids=["empty", "truncated", "empty-array", "string", "no-event-id", "bad-id"],
)
def test_comapi_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidCallbackError):
        comapi().parse_callback(signed(body), NOW)


# govdelivery ---------------------------------------------------------------------------------

TOKEN = "govdelivery-callback-token-b8d2"


def govdelivery() -> GovdeliveryAdapter:
    settings = GovdeliverySettings.from_env({"GOVDELIVERY_TOKEN": "x" * 32, "GOVDELIVERY_CALLBACK_TOKEN": TOKEN})
    return GovdeliveryAdapter(settings, HTTP)


FIELDS = {
    "status": "failed",
    "message_type": "sms",
    "message_url": "https://tms.govdelivery.com/messages/sms/165532",
    "recipient_url": "https://tms.govdelivery.com/messages/sms/165532/recipients/9876",
    "sid": "b2c8a7f1",
    "completed_at": "2026-11-22T10:00:05Z",
    "error_message": "Number is not SMS capable",
}


def tms_request(body: bytes, content_type: str, token: str | None = TOKEN) -> CallbackRequest:
    return CallbackRequest("POST", {"content-type": content_type}, {"token": [token]} if token else {}, body)


def test_govdelivery_token_authenticates_and_a_wrong_or_missing_one_is_refused() -> None:
    body = urlencode(FIELDS).encode()
    govdelivery().authenticate_callback(tms_request(body, "application/x-www-form-urlencoded"))
    for token in (None, "guess", TOKEN[:-1], TOKEN + "x"):
        with pytest.raises(CallbackAuthenticationError):
            govdelivery().authenticate_callback(tms_request(body, "application/x-www-form-urlencoded", token))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (urlencode(FIELDS).encode(), "application/x-www-form-urlencoded"),
        (json.dumps(FIELDS).encode(), "application/json"),
    ],
    ids=["form", "json"],
)
def test_govdelivery_callbacks_in_form_or_json_name_the_message_from_its_url(body: bytes, content_type: str) -> None:
    (observation,) = govdelivery().parse_callback(tms_request(body, content_type), NOW).observations
    assert observation.message_id == "165532"
    assert observation.provider_detail == "recipient 9876: failed (Number is not SMS capable)"


@pytest.mark.parametrize(
    "fields",
    [
        {**FIELDS, "message_url": ""},
        {**FIELDS, "status": ""},
        {"status": "sent"},
        {**FIELDS, "message_url": "https://x/messages/sms/a%20b"},
    ],
    ids=["no-url", "no-status", "only-status", "bad-id"],
)
def test_govdelivery_callbacks_without_a_message_or_status_are_refused(fields: dict[str, str]) -> None:
    with pytest.raises(InvalidCallbackError):
        govdelivery().parse_callback(tms_request(urlencode(fields).encode(), "application/x-www-form-urlencoded"), NOW)


def test_usajobs_has_no_callbacks() -> None:
    adapter = UsajobsAdapter(UsajobsSettings.from_env({"USAJOBS_API_KEY": "k"}), HTTP)
    assert adapter.supports_callbacks is False
    with pytest.raises(CallbacksNotSupportedError):
        adapter.authenticate_callback(CallbackRequest("POST", {}, {}, b"{}"))


# comapi batches: one bad element never sinks the others ---------------------------------------

BAD_ELEMENTS: dict[str, Any] = {
    "no-event-id": {k: v for k, v in envelope(event_id="bad").items() if k != "eventId"},
    "bad-message-id": {**envelope(event_id="bad"), "payload": {**envelope()["payload"], "id": "../x"}},
    "unknown-shape": {"hello": "world"},
    "string": "message.delivered",
    "number": 42,
    "null": None,
    "payload-not-object": {**envelope(event_id="bad"), "payload": ["not", "an", "object"]},
    "invalid-status-word": envelope(status="delivered\u0000", event_id="bad"),
}


@pytest.mark.parametrize("bad", BAD_ELEMENTS.values(), ids=BAD_ELEMENTS.keys())
def test_comapi_batch_keeps_every_valid_event_and_ignores_the_bad_one(bad: Any) -> None:
    batch = [envelope("message.sent", "sent", "e1"), bad, envelope("message.delivered", "delivered", "e3")]
    parsed = comapi().parse_callback(signed(json.dumps(batch).encode()), NOW)
    assert [o.provider_event_id for o in parsed.observations] == ["e1", "e3"]
    assert parsed.ignored == 1


def test_comapi_batch_of_only_bad_elements_is_acknowledged_with_all_ignored() -> None:
    parsed = comapi().parse_callback(signed(json.dumps(list(BAD_ELEMENTS.values())).encode()), NOW)
    assert (parsed.observations, parsed.ignored) == ([], len(BAD_ELEMENTS))


@pytest.mark.parametrize("bad", BAD_ELEMENTS.values(), ids=BAD_ELEMENTS.keys())
def test_comapi_a_single_bad_envelope_is_still_refused(bad: Any) -> None:
    with pytest.raises(InvalidCallbackError):
        comapi().parse_callback(signed(json.dumps(bad).encode()), NOW)


@pytest.mark.parametrize(
    "body",
    [b"[" + b"9" * 5000 + b"]", b'{"eventId": ' + b"1" * 4301 + b"}", b"[" * 100_000 + b"]" * 100_000],
    ids=["integer-5000-digits", "integer-4301-digits", "nested-100000"],
)
def test_comapi_bodies_json_cannot_hold_are_invalid_callbacks(body: bytes) -> None:
    with pytest.raises(InvalidCallbackError):
        comapi().parse_callback(signed(body), NOW)


def test_comapi_batch_over_the_limit_is_refused() -> None:
    batch = [envelope(event_id=f"e{n}") for n in range(1001)]
    with pytest.raises(InvalidCallbackError):
        comapi().parse_callback(signed(json.dumps(batch).encode()), NOW)


@pytest.mark.parametrize(
    "where",
    ["channel", "payload", "timestamp", "all"],
)
@pytest.mark.parametrize("raw", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_comapi_an_unusable_event_time_is_treated_as_missing_and_quoted(where: str, raw: str) -> None:
    # Only the bad time(s) are given, so nothing usable stands in.
    event = envelope()
    channel = event["payload"]["details"]["channelStatus"]["sms"]
    del channel["updatedOn"], event["payload"]["updatedOn"], event["timestamp"]
    if where in ("channel", "all"):
        channel["updatedOn"] = raw
    if where in ("payload", "all"):
        event["payload"]["updatedOn"] = raw
    if where in ("timestamp", "all"):
        event["timestamp"] = raw
    (observation,) = comapi().parse_callback(signed(json.dumps(event).encode()), NOW).observations
    assert not observation.provider_gave_time
    assert observation.event_at == NOW
    name = "timestamp" if where == "timestamp" else "updatedOn"
    assert f"{name} '{raw}' not usable" in (observation.provider_detail or "")
    if where == "all":
        assert (observation.provider_detail or "").count("not usable") == 3


def test_comapi_a_usable_later_time_stands_in_for_an_unusable_channel_time() -> None:
    event = envelope()
    event["payload"]["details"]["channelStatus"]["sms"]["updatedOn"] = "9999-12-31T23:59:59-01:00"
    (observation,) = comapi().parse_callback(signed(json.dumps(event).encode()), NOW).observations
    assert observation.provider_gave_time
    assert observation.event_at == datetime(2026, 11, 22, 10, 0, 1, 600_000, tzinfo=UTC)
    assert observation.provider_detail == "updatedOn '9999-12-31T23:59:59-01:00' not usable"


def test_comapi_a_very_long_time_text_is_quoted_short() -> None:
    event = envelope()
    for holder in (event["payload"]["details"]["channelStatus"]["sms"], event["payload"]):
        holder["updatedOn"] = "2" * 10_000
    event["timestamp"] = "2" * 10_000
    (observation,) = comapi().parse_callback(signed(json.dumps(event).encode()), NOW).observations
    assert not observation.provider_gave_time
    assert len(observation.provider_detail or "") <= 500


# govdelivery: hostile callback fields, and confirmation ---------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {**FIELDS, "message_url": "http://["},
        {**FIELDS, "message_url": 165532},
        {**FIELDS, "status": True},
    ],
    ids=["unclosed-ipv6-url", "url-number", "status-bool"],
)
def test_govdelivery_callbacks_with_unreadable_fields_are_refused(fields: dict[str, Any]) -> None:
    for body, content_type in (
        (json.dumps(fields).encode(), "application/json"),
        (urlencode(fields).encode(), "application/x-www-form-urlencoded"),
    ):
        parse = govdelivery().parse_callback
        request = tms_request(body, content_type)
        if fields.get("status") is True and content_type.endswith("urlencoded"):
            continue  # a form field is always text: "True" is a word, not a hostile value
        if isinstance(fields.get("message_url"), int) and content_type.endswith("urlencoded"):
            continue
        with pytest.raises(InvalidCallbackError):
            parse(request, NOW)


def test_govdelivery_json_callback_with_a_huge_integer_is_an_invalid_callback() -> None:
    body = b'{"status": "sent", "sid": ' + b"7" * 5000 + b"}"
    with pytest.raises(InvalidCallbackError):
        govdelivery().parse_callback(tms_request(body, "application/json"), NOW)


def test_govdelivery_confirm_answers_only_what_tms_said(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = govdelivery()
    body = urlencode(FIELDS).encode()
    (claim,) = adapter.parse_callback(tms_request(body, "application/x-www-form-urlencoded"), NOW).observations
    tms_word = adapter.message_observation(
        "165532",
        {"status": "sending", "recipient_counts": {"total": 1, "new": 0, "sending": 1, "sent": 0, "failed": 0}},
        NOW,
    )
    monkeypatch.setattr(adapter, "fetch_status", lambda message_id, now: tms_word)
    assert adapter.confirm(claim, NOW) == tms_word
    assert "Number is not SMS capable" in (claim.provider_detail or "")
    assert GovdeliveryAdapter.confirms_reports is True
    assert ComapiAdapter.confirms_reports is False
    assert UsajobsAdapter.confirms_reports is False
