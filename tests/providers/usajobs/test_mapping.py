"""USAJOBS's mapping: its status words and the detail codes they carry."""

from __future__ import annotations

import pytest

from textstatus.providers.base import UNKNOWN_OUTCOME, Outcome
from textstatus.providers.usajobs import UsajobsAdapter, detail_code
from textstatus.status import Reason, Status


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


@pytest.mark.parametrize(
    ("word", "detail", "expected"),
    [
        ("Delivered", "2000: Message Delivered Successfully", Outcome(Status.DELIVERED)),
        (
            "Failed",
            "4007: The Destination/To number has opted out of receiving messages from you",
            Outcome(Status.REJECTED, Reason.OPTED_OUT),
        ),
        (
            "Failed",
            "4003: Message failed to deliver due to unsupported destination",
            Outcome(Status.UNDELIVERED, Reason.INVALID_DESTINATION),
        ),
        ("Failed", "4105: Carrier rejected the message", Outcome(Status.UNDELIVERED, Reason.UNKNOWN)),
        ("Failed", None, Outcome(Status.UNDELIVERED, Reason.UNKNOWN)),
        ("Failed", "no code here", Outcome(Status.UNDELIVERED, Reason.UNKNOWN)),
        ("Queued", "1000: Waiting", UNKNOWN_OUTCOME),
    ],
    ids=["delivered", "opted-out", "unsupported-destination", "unknown-code", "no-detail", "no-code", "unknown-word"],
)
def test_usajobs_status_and_detail_code_map_as_documented(word: str, detail: str | None, expected: Outcome) -> None:
    assert UsajobsAdapter.outcome_of(word, detail) == expected


@pytest.mark.parametrize(
    ("detail", "code"),
    [("4007: opted out", 4007), ("2000:Delivered", 2000), (" 4003 : x", 4003), ("x", None), (None, None)],
)
def test_usajobs_detail_codes_are_parsed_from_the_leading_number(detail: str | None, code: int | None) -> None:
    assert detail_code(detail) == code
