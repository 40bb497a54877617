"""Comapi's signed webhooks, unit: authentication and parsing, batches that keep every valid event."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import TEST_ENV
from tests.support.adapters import comapi_adapter
from tests.support.payloads import COMAPI_MESSAGE_ID, NOW, comapi_envelope, comapi_signature
from textstatus.errors import CallbackAuthenticationError, InvalidCallbackError
from textstatus.providers.callbacks import CallbackRequest
from textstatus.status import Status


def signed(body: bytes, secret: str = TEST_ENV["COMAPI_WEBHOOK_SECRET"], **headers: str) -> CallbackRequest:
    signature = comapi_signature(body, secret)
    return CallbackRequest("POST", {"x-comapi-signature": signature, **headers}, {}, body)


def test_comapi_signature_over_the_exact_body_authenticates() -> None:
    comapi_adapter().authenticate_callback(signed(json.dumps(comapi_envelope()).encode()))


def test_comapi_signature_in_upper_case_hex_authenticates() -> None:
    body = json.dumps(comapi_envelope()).encode()
    request = signed(body)
    comapi_adapter().authenticate_callback(
        CallbackRequest("POST", {"x-comapi-signature": request.headers["x-comapi-signature"].upper()}, {}, body)
    )


def test_comapi_signature_of_the_same_json_with_other_whitespace_is_refused() -> None:
    compact = json.dumps(comapi_envelope(), separators=(",", ":")).encode()
    spaced = json.dumps(comapi_envelope(), indent=2).encode()
    signature = signed(compact).headers["x-comapi-signature"]
    with pytest.raises(CallbackAuthenticationError):
        comapi_adapter().authenticate_callback(CallbackRequest("POST", {"x-comapi-signature": signature}, {}, spaced))


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
        comapi_adapter().authenticate_callback(make(json.dumps(comapi_envelope()).encode()))


def test_comapi_envelope_becomes_an_observation_with_the_channel_time_and_event_id() -> None:
    parsed = comapi_adapter().parse_callback(signed(json.dumps(comapi_envelope()).encode()), NOW)
    (observation,) = parsed.observations
    assert (observation.message_id, observation.status, observation.provider_status) == (
        COMAPI_MESSAGE_ID,
        Status.DELIVERED,
        "delivered",
    )
    assert observation.event_at == datetime(2026, 11, 22, 10, 0, 1, 500_000, tzinfo=UTC)
    assert observation.event_id == "comapi:evt-1"


def test_comapi_batched_array_of_envelopes_with_ignored_event_kinds() -> None:
    batch = [
        comapi_envelope("message.sent", "sent", "e1"),
        comapi_envelope("message.inbound", "", "e2"),
        comapi_envelope("interaction.click", "", "e3"),
        comapi_envelope("message.delivered", "delivered", "e4"),
    ]
    parsed = comapi_adapter().parse_callback(signed(json.dumps(batch).encode()), NOW)
    assert [o.provider_status for o in parsed.observations] == ["sent", "delivered"]
    assert parsed.ignored == 2


def test_comapi_event_without_channel_status_falls_back_to_the_event_name() -> None:
    bare = comapi_envelope("message.expired")
    del bare["payload"]["details"]
    (observation,) = comapi_adapter().parse_callback(signed(json.dumps(bare).encode()), NOW).observations
    assert (observation.provider_status, observation.status) == ("expired", Status.UNDELIVERED)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b'"text"',
        json.dumps({**comapi_envelope(), "eventId": None}).encode(),
        json.dumps({**comapi_envelope(), "payload": {"id": "../x"}}).encode(),
    ],
    ids=["empty", "truncated", "empty-array", "string", "no-event-id", "bad-id"],
)
def test_comapi_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidCallbackError):
        comapi_adapter().parse_callback(signed(body), NOW)


BAD_ELEMENTS: dict[str, Any] = {
    "no-event-id": {k: v for k, v in comapi_envelope(event_id="bad").items() if k != "eventId"},
    "bad-message-id": {**comapi_envelope(event_id="bad"), "payload": {**comapi_envelope()["payload"], "id": "../x"}},
    "unknown-shape": {"hello": "world"},
    "string": "message.delivered",
    "number": 42,
    "null": None,
    "payload-not-object": {**comapi_envelope(event_id="bad"), "payload": ["not", "an", "object"]},
    "invalid-status-word": comapi_envelope(status="delivered\u0000", event_id="bad"),
    # The history shows the provider's event id: control characters are not an id.
    "event-id-with-control-characters": comapi_envelope(event_id="a\u0000b\nc"),
}


@pytest.mark.parametrize("bad", BAD_ELEMENTS.values(), ids=BAD_ELEMENTS.keys())
def test_comapi_batch_keeps_every_valid_event_and_ignores_the_bad_one(bad: Any) -> None:
    batch = [
        comapi_envelope("message.sent", "sent", "e1"),
        bad,
        comapi_envelope("message.delivered", "delivered", "e3"),
    ]
    parsed = comapi_adapter().parse_callback(signed(json.dumps(batch).encode()), NOW)
    assert [o.provider_event_id for o in parsed.observations] == ["e1", "e3"]
    assert parsed.ignored == 1


def test_comapi_batch_of_only_bad_elements_is_acknowledged_with_all_ignored() -> None:
    parsed = comapi_adapter().parse_callback(signed(json.dumps(list(BAD_ELEMENTS.values())).encode()), NOW)
    assert (parsed.observations, parsed.ignored) == ([], len(BAD_ELEMENTS))


@pytest.mark.parametrize("bad", BAD_ELEMENTS.values(), ids=BAD_ELEMENTS.keys())
def test_comapi_a_single_bad_envelope_is_still_refused(bad: Any) -> None:
    with pytest.raises(InvalidCallbackError):
        comapi_adapter().parse_callback(signed(json.dumps(bad).encode()), NOW)


@pytest.mark.parametrize(
    "body",
    [b'{"eventId": ' + b"1" * 4301 + b"}", b"[" * 100_000 + b"]" * 100_000],
    ids=["single-event-with-a-4301-digit-id", "nested-100000"],
)
def test_comapi_bodies_json_cannot_hold_are_invalid_callbacks(body: bytes) -> None:
    with pytest.raises(InvalidCallbackError):
        comapi_adapter().parse_callback(signed(body), NOW)


def test_comapi_a_number_too_long_to_read_is_one_bad_element_not_an_unreadable_batch() -> None:
    good = json.dumps(comapi_envelope()).encode()
    parsed = comapi_adapter().parse_callback(signed(b"[" + good + b", " + b"9" * 5000 + b"]"), NOW)
    assert (len(parsed.observations), parsed.ignored) == (1, 1)


def test_comapi_batch_over_the_limit_is_refused() -> None:
    batch = [comapi_envelope(event_id=f"e{n}") for n in range(1001)]
    with pytest.raises(InvalidCallbackError):
        comapi_adapter().parse_callback(signed(json.dumps(batch).encode()), NOW)


@pytest.mark.parametrize(
    "where",
    ["channel", "payload", "timestamp", "all"],
)
@pytest.mark.parametrize("raw", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_comapi_an_unusable_event_time_is_treated_as_missing_and_quoted(where: str, raw: str) -> None:
    # Only the bad time(s) are given, so nothing usable stands in.
    event = comapi_envelope()
    channel = event["payload"]["details"]["channelStatus"]["sms"]
    del channel["updatedOn"], event["payload"]["updatedOn"], event["timestamp"]
    if where in ("channel", "all"):
        channel["updatedOn"] = raw
    if where in ("payload", "all"):
        event["payload"]["updatedOn"] = raw
    if where in ("timestamp", "all"):
        event["timestamp"] = raw
    (observation,) = comapi_adapter().parse_callback(signed(json.dumps(event).encode()), NOW).observations
    assert not observation.provider_gave_time
    assert observation.event_at == NOW
    name = "timestamp" if where == "timestamp" else "updatedOn"
    assert f"{name} '{raw}' not usable" in (observation.provider_detail or "")
    if where == "all":
        assert (observation.provider_detail or "").count("not usable") == 3


def test_comapi_a_usable_later_time_stands_in_for_an_unusable_channel_time() -> None:
    event = comapi_envelope()
    event["payload"]["details"]["channelStatus"]["sms"]["updatedOn"] = "9999-12-31T23:59:59-01:00"
    (observation,) = comapi_adapter().parse_callback(signed(json.dumps(event).encode()), NOW).observations
    assert observation.provider_gave_time
    assert observation.event_at == datetime(2026, 11, 22, 10, 0, 1, 600_000, tzinfo=UTC)
    assert observation.provider_detail == "updatedOn '9999-12-31T23:59:59-01:00' not usable"


def test_comapi_a_very_long_time_text_is_quoted_short() -> None:
    event = comapi_envelope()
    for holder in (event["payload"]["details"]["channelStatus"]["sms"], event["payload"]):
        holder["updatedOn"] = "2" * 10_000
    event["timestamp"] = "2" * 10_000
    (observation,) = comapi_adapter().parse_callback(signed(json.dumps(event).encode()), NOW).observations
    assert not observation.provider_gave_time
    assert len(observation.provider_detail or "") <= 500


def test_comapi_an_event_id_that_is_a_phone_number_or_an_email_is_kept_as_a_digest() -> None:
    """The history shows the provider's event id: never a phone number or an email, yet one id
    per event id given, so a retry is still a duplicate and two events stay two."""

    def event_id_of(given: str) -> str:
        body = json.dumps(comapi_envelope(event_id=given)).encode()
        (observation,) = comapi_adapter().parse_callback(signed(body), NOW).observations
        return observation.event_id

    first, again, other = event_id_of("bob@example.com"), event_id_of("bob@example.com"), event_id_of("+12025550199")
    assert first == again != other
    for kept in (first, other):
        assert kept.startswith("comapi:sha256:")
        assert "bob" not in kept
        assert "2025550199" not in kept
    assert event_id_of("evt-1") == "comapi:evt-1"
