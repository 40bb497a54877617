"""Provider-supplied times, numbers and send responses: bounded, never raising, and only what a
send call really returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.unit.test_provider_callbacks import HTTP, NOW, comapi, govdelivery
from textstatus.errors import InvalidRequestError
from textstatus.providers.base import SentMessage, SentMessages
from textstatus.providers.govdelivery import GovdeliveryAdapter
from textstatus.providers.http import DEFAULT_RETRY_AFTER_SECONDS, retry_after_seconds
from textstatus.providers.payloads import bounded_count, first_usable_time, quoted
from textstatus.providers.usajobs import UsajobsAdapter, UsajobsSettings, detail_code
from textstatus.providers.wunderkind import WunderkindAdapter, WunderkindSettings
from textstatus.status import Reason, Status

# numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (2, 2),
        (10**9, 10**9),
        (10**9 + 1, None),
        (10**4000, None),
        (-1, None),
        (1.0, None),
        (float("inf"), None),
        (float("nan"), None),
        ("2", None),
        (True, None),
        (False, None),
        (None, None),
        ({}, None),
    ],
)
def test_a_count_is_an_integer_from_zero_to_a_billion(value: object, expected: int | None) -> None:
    assert bounded_count(value) == expected


@pytest.mark.parametrize(
    ("detail", "code"),
    [
        ("9" * 5000 + ": Something", None),
        ("1" * 10 + ": ten digits", None),
        ("123456789: nine digits", 123456789),
        ("4007" + "0" * 4400, None),
        ("", None),
    ],
    ids=["5000-digits", "10-digits", "9-digits", "4404-digits-no-colon", "empty"],
)
def test_usajobs_a_code_is_at_most_nine_digits(detail: str, code: int | None) -> None:
    assert detail_code(detail) == code


def test_usajobs_a_failure_with_a_5000_digit_code_is_undelivered_for_an_unknown_reason() -> None:
    assert UsajobsAdapter.outcome_of("Failed", "4" * 5000 + ": x").reason is Reason.UNKNOWN


@pytest.mark.parametrize("value", ["nan", "NaN", "-nan", "Fri, 31 Dec 9999 23:59:59 -0100", "x" * 5000])
def test_a_retry_after_we_cannot_use_is_the_default_pause(value: str) -> None:
    assert retry_after_seconds(value, NOW) == DEFAULT_RETRY_AFTER_SECONDS


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("inf", 3600.0), ("1e999", 3600.0), ("-5", 0.0), ("7", 7.0), ("Mon, 01 Jan 0001 00:00:00 +0100", 0.0)],
)
def test_a_retry_after_is_bounded(value: str, seconds: float) -> None:
    assert retry_after_seconds(value, NOW) == seconds


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("9999-12-31T23:59:59-01:00", "'9999-12-31T23:59:59-01:00'"),
        ("x" * 100, "'" + "x" * 64 + "...'"),
        (None, "null"),
        (True, "true"),
        (10**4000, "an integer of about 4001 digits"),
        (float("nan"), "nan"),
        ({"a": 1}, "an object"),
    ],
)
def test_a_value_we_could_not_use_is_quoted_short(value: object, text: str) -> None:
    assert quoted(value) == text


def test_the_first_usable_time_wins_and_unusable_ones_before_it_are_noted() -> None:
    moment, notes = first_usable_time(
        [("a", "0001-01-01T00:00:00+01:00"), ("b", None), ("c", "2026-11-22T10:00:00Z"), ("d", "garbage")], NOW
    )
    assert moment == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert notes == ["a '0001-01-01T00:00:00+01:00' not usable"]


# send responses -----------------------------------------------------------------------------

COMAPI_201: dict[str, Any] = {
    "_createdOn": "2026-11-22T09:59:59.633Z",
    "_updatedOn": "2026-11-22T09:59:59.633Z",
    "sentOn": "2026-11-22T09:59:59.627Z",
    "status": "processing",
    "statusDetails": {"channelId": "sms"},
    "messageId": "d8e296bb-97c4-4495-b98f-1e32e0b11628",
}


@pytest.mark.parametrize("word", ["processing", "sent", "failed", "Failed"])
def test_comapi_send_response_keeps_a_word_a_send_call_returns(word: str) -> None:
    (sent,) = comapi().messages_in_send_response({**COMAPI_201, "status": word}, NOW).messages
    assert sent.first is not None
    assert sent.first.provider_status == word
    assert sent.needs_confirmation is False


@pytest.mark.parametrize("word", ["delivered", "read", "expired", "retrying", "filtered", "undeliverable", "x" * 500])
def test_comapi_send_response_drops_a_word_no_send_call_returns(word: str) -> None:
    assert comapi().messages_in_send_response({**COMAPI_201, "status": word}, NOW) == SentMessages(
        [SentMessage(COMAPI_201["messageId"])]
    )


@pytest.mark.parametrize("raw", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "+275760-09-13T00:00:00Z"])
def test_comapi_send_response_with_unusable_times_keeps_the_received_time(raw: str) -> None:
    (sent,) = comapi().messages_in_send_response({**COMAPI_201, "_updatedOn": raw, "sentOn": raw}, NOW).messages
    assert sent.first is not None
    assert (sent.first.event_at, sent.first.provider_gave_time) == (NOW, False)
    assert f"_updatedOn '{raw}' not usable" in (sent.first.provider_detail or "")
    assert f"sentOn '{raw}' not usable" in (sent.first.provider_detail or "")


def test_comapi_batch_send_response_skips_bad_elements_with_a_reason() -> None:
    batch: list[Any] = [
        {"index": 0, "messageId": "58bde0da-b380-4cb2-8dd1-ca74fc7a0cda"},
        {"index": 1},
        "0aee96a8",
        None,
        {"index": 4, "messageId": "../etc"},
        {"index": 5, "messageId": 10**40},
        {"index": 6, "messageId": "0aee96a8-09c9-4192-bf6d-c5f20a323956"},
    ]
    result = comapi().messages_in_send_response(batch, NOW)
    assert [m.message_id for m in result.messages] == [batch[0]["messageId"], batch[6]["messageId"]]
    assert all(m.first is None for m in result.messages)
    assert result.ignored == [f"item {n}: no valid messageId" for n in (1, 2, 3, 4, 5)]


@pytest.mark.parametrize("batch", [[], [{"index": 0}], [None, "x", 3]], ids=["empty", "no-id", "junk"])
def test_comapi_batch_send_response_with_nothing_valid_is_refused(batch: list[Any]) -> None:
    with pytest.raises(InvalidRequestError):
        comapi().messages_in_send_response(batch, NOW)


GOVDELIVERY_COMPLETED = {
    "body": "Today is Sunny and 70F",
    "created_at": "2026-11-22T09:59:00Z",
    "completed_at": "2026-11-22T09:59:30Z",
    "status": "completed",
    "_links": {"self": "/messages/sms/165532"},
    "recipient_counts": {
        "total": 2,
        "new": 0,
        "sending": 0,
        "inconclusive": 0,
        "blacklisted": 0,
        "canceled": 0,
        "sent": 2,
        "failed": 0,
    },
}


def test_govdelivery_send_response_status_is_a_claim_to_confirm() -> None:
    (sent,) = govdelivery().messages_in_send_response(GOVDELIVERY_COMPLETED, NOW).messages
    assert sent.message_id == "165532"
    assert sent.needs_confirmation is True
    assert sent.first is not None
    assert sent.first.status is Status.DELIVERED  # what it claims, for `confirm` to check


def test_govdelivery_send_response_with_an_unusable_completed_at_keeps_the_received_time() -> None:
    payload = {**GOVDELIVERY_COMPLETED, "completed_at": "9999-12-31T23:59:59-01:00"}
    (sent,) = govdelivery().messages_in_send_response(payload, NOW).messages
    assert sent.first is not None
    assert (sent.first.event_at, sent.first.provider_gave_time) == (NOW, False)
    assert "completed_at '9999-12-31T23:59:59-01:00' not usable" in (sent.first.provider_detail or "")


@pytest.mark.parametrize("bad_id", [True, 1e999, float("nan"), 10**30, -1, 1.5, {"$ne": 1}])
def test_govdelivery_send_response_id_that_is_not_an_id_is_refused(bad_id: object) -> None:
    with pytest.raises(InvalidRequestError):
        govdelivery().messages_in_send_response({"id": bad_id, "status": "new"}, NOW)


def test_govdelivery_send_response_numeric_id_is_kept() -> None:
    (sent,) = govdelivery().messages_in_send_response({"id": 165532, "status": "new"}, NOW).messages
    assert sent.message_id == "165532"


@pytest.mark.parametrize(
    "counts",
    [
        {"total": 3, "new": -1, "sending": 0, "sent": 2},
        {"total": 2, "new": 10**4000, "sent": 0},
        {"total": 2, "new": True, "sending": "2", "sent": 0.5},
        {"total": 1e999, "sent": float("nan")},
        {"total": 2, "sent": 1, "failed": 1, "x" * 10_000: 7},
    ],
    ids=["negative", "huge", "bool-string-float", "infinite-nan", "unknown-key"],
)
def test_govdelivery_hostile_counts_are_dropped_and_never_complete_a_pending_message(counts: dict[str, Any]) -> None:
    observation = govdelivery().message_observation("165532", {"status": "sending", "recipient_counts": counts}, NOW)
    assert observation is not None
    assert observation.recipients is None or all(
        key in ("total", "new", "sending", "sent", "failed") and 0 <= value <= 10**9
        for key, value in observation.recipients.items()
    )
    if counts.get("failed") != 1:
        assert observation.status is Status.SENDING


def test_usajobs_and_wunderkind_send_responses_carry_only_an_id() -> None:
    usajobs = UsajobsAdapter(UsajobsSettings.from_env({"USAJOBS_API_KEY": "k"}), HTTP)
    wunderkind = WunderkindAdapter(
        WunderkindSettings.from_env(
            {
                "WUNDERKIND_CLIENT_ID": "i",
                "WUNDERKIND_CLIENT_SECRET": "s",
                "WUNDERKIND_CALLBACK_ID": "ci",
                "WUNDERKIND_CALLBACK_SECRET": "cs",
            }
        ),
        HTTP,
    )
    response_id = "3f1c8e52-9b7d-4f7e-a1b2-6c5d4e3f2a10"
    claim = {"status": "DELIVERED", "deliveryStatus": "Delivered"}
    assert usajobs.messages_in_send_response({"responseId": response_id, **claim}, NOW) == SentMessages(
        [SentMessage(response_id)]
    )
    assert wunderkind.messages_in_send_response({"messageId": response_id, **claim}, NOW) == SentMessages(
        [SentMessage(response_id)]
    )
    assert GovdeliveryAdapter.confirms_reports
    assert not UsajobsAdapter.confirms_reports
