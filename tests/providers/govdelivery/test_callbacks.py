"""GovDelivery TMS's token callbacks, unit: authentication, parsing, and confirmation with TMS."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import TEST_ENV
from tests.support.adapters import govdelivery_adapter
from tests.support.payloads import NOW, govdelivery_fields
from textstatus.errors import CallbackAuthenticationError, InvalidCallbackError
from textstatus.providers.callbacks import CallbackRequest
from textstatus.providers.comapi import ComapiAdapter
from textstatus.providers.govdelivery import GovdeliveryAdapter
from textstatus.providers.usajobs import UsajobsAdapter

TOKEN = TEST_ENV["GOVDELIVERY_CALLBACK_TOKEN"]
TMS = "https://tms.govdelivery.com"
FIELDS = govdelivery_fields(
    TMS,
    "165532",
    "failed",
    recipient_url=f"{TMS}/messages/sms/165532/recipients/9876",
    error_message="Number is not SMS capable",
)


def tms_request(body: bytes, content_type: str, token: str | None = TOKEN) -> CallbackRequest:
    return CallbackRequest("POST", {"content-type": content_type}, {"token": [token]} if token else {}, body)


def test_govdelivery_token_authenticates_and_a_wrong_or_missing_one_is_refused() -> None:
    body = urlencode(FIELDS).encode()
    govdelivery_adapter().authenticate_callback(tms_request(body, "application/x-www-form-urlencoded"))
    for token in (None, "guess", TOKEN[:-1], TOKEN + "x"):
        with pytest.raises(CallbackAuthenticationError):
            govdelivery_adapter().authenticate_callback(tms_request(body, "application/x-www-form-urlencoded", token))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (urlencode(FIELDS).encode(), "application/x-www-form-urlencoded"),
        (json.dumps(FIELDS).encode(), "application/json"),
    ],
    ids=["form", "json"],
)
def test_govdelivery_callbacks_in_form_or_json_name_the_message_from_its_url(body: bytes, content_type: str) -> None:
    (observation,) = govdelivery_adapter().parse_callback(tms_request(body, content_type), NOW).observations
    assert observation.message_id == "165532"
    assert observation.provider_detail == "recipient 9876: failed (Number is not SMS capable)"
    assert observation.recipient_id == "9876"


@pytest.mark.parametrize(
    "recipient_url",
    [
        "",
        f"{TMS}/messages/sms/165532/recipients/a%20b",
        f"{TMS}/messages/sms/165532/recipients/{'9' * 200}",
        "http://[",
        f"{TMS}/messages/sms/165532/recipients/",
        f"{TMS}/messages/sms/165532/recipients/../../x",
        # An id shaped like a phone number or an email is not kept (the detail masks it too).
        f"{TMS}/messages/sms/165532/recipients/12025550199",
        f"{TMS}/messages/sms/165532/recipients/alice@example.com",
    ],
)
def test_govdelivery_a_recipient_id_we_cannot_use_is_left_out(recipient_url: str) -> None:
    fields = {**FIELDS, "recipient_url": recipient_url}
    request = tms_request(urlencode(fields).encode(), "application/x-www-form-urlencoded")
    (observation,) = govdelivery_adapter().parse_callback(request, NOW).observations
    assert (observation.message_id, observation.recipient_id) == ("165532", None)


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
        govdelivery_adapter().parse_callback(
            tms_request(urlencode(fields).encode(), "application/x-www-form-urlencoded"), NOW
        )


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
        parse = govdelivery_adapter().parse_callback
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
        govdelivery_adapter().parse_callback(tms_request(body, "application/json"), NOW)


def test_govdelivery_confirm_answers_only_what_tms_said(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = govdelivery_adapter()
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


def test_govdelivery_phone_numbers_and_emails_in_a_callback_are_masked_before_they_are_kept() -> None:
    """A carrier's error text quotes the number; the recipient's URL may be mangled: neither a
    phone number nor an email reaches the stored detail."""
    fields = {
        **FIELDS,
        "recipient_url": f"{TMS}/messages/sms/165532/recipients/%2B12025550177",
        "error_message": "The 'To' number +12025550199 is not valid; bad 202-555-0188, mail joe@example.com",
    }
    request = tms_request(urlencode(fields).encode(), "application/x-www-form-urlencoded")
    (observation,) = govdelivery_adapter().parse_callback(request, NOW).observations
    detail = observation.provider_detail or ""
    for personal in ("2025550199", "2025550188", "2025550177", "joe@example.com", "555-0188"):
        assert personal not in detail.replace("-", "")
        assert personal not in detail
    assert "*******0199" in detail
    assert "[email]" in detail
