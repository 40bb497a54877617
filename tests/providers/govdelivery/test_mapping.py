"""The mapping tables of USAJOBS, Comapi and GovDelivery, cell by cell (DESIGN.md's defaults)."""

from __future__ import annotations

import pytest

from textstatus.providers.base import UNKNOWN_OUTCOME, Outcome
from textstatus.providers.comapi import ComapiAdapter
from textstatus.providers.govdelivery import RECIPIENT_STATUSES, GovdeliveryAdapter, completed_outcome
from textstatus.providers.usajobs import UsajobsAdapter, detail_code
from textstatus.status import Reason, Status

# usajobs ------------------------------------------------------------------------------------


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


# comapi -------------------------------------------------------------------------------------

COMAPI = [
    ("processing", Status.ACCEPTED, None),
    ("retrying", Status.SENDING, None),
    ("sent", Status.SENT, None),
    ("delivered", Status.DELIVERED, None),
    ("read", Status.DELIVERED, None),
    ("expired", Status.UNDELIVERED, Reason.EXPIRED_AT_PROVIDER),
    ("failed", Status.FAILED, Reason.PROVIDER_ERROR),
    ("filtered", Status.REJECTED, Reason.UNKNOWN),
]


@pytest.mark.parametrize(("word", "status", "reason"), COMAPI)
def test_comapi_word_maps_to_its_status_and_reason(word: str, status: Status, reason: Reason | None) -> None:
    assert ComapiAdapter.outcome(word) == Outcome(status, reason)
    assert ComapiAdapter.outcome(word.upper()) == Outcome(status, reason)


def test_comapi_table_has_every_documented_word_and_nothing_else() -> None:
    assert set(ComapiAdapter.statuses) == {word for word, _, _ in COMAPI}
    assert ComapiAdapter.outcome("undeliverable_queued") == UNKNOWN_OUTCOME


# govdelivery -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "status"), [("new", Status.ACCEPTED), ("queued", Status.ACCEPTED), ("sending", Status.SENDING)]
)
def test_govdelivery_message_words_before_completion(word: str, status: Status) -> None:
    assert GovdeliveryAdapter.outcome(word) == Outcome(status)


def counts(**given: int) -> dict[str, int]:
    base = dict.fromkeys(("new", "sending", "inconclusive", "blacklisted", "canceled", "sent", "failed"), 0)
    return {"total": sum(given.values()), **base, **given}


@pytest.mark.parametrize(
    ("recipients", "expected"),
    [
        (counts(sent=2), Outcome(Status.DELIVERED)),
        (counts(blacklisted=3), Outcome(Status.REJECTED, Reason.BLACKLISTED)),
        (counts(canceled=1), Outcome(Status.CANCELED)),
        (counts(failed=2), Outcome(Status.UNDELIVERED, Reason.CARRIER_ERROR)),
        (counts(inconclusive=1), Outcome(Status.UNDELIVERED, Reason.INCONCLUSIVE)),
        (counts(failed=1, blacklisted=1), Outcome(Status.UNDELIVERED, Reason.UNKNOWN)),
        (counts(sent=1, failed=1), Outcome(Status.PARTIALLY_DELIVERED)),
        (counts(sent=5, canceled=1, inconclusive=1), Outcome(Status.PARTIALLY_DELIVERED)),
        (counts(), Outcome(Status.UNDELIVERED, Reason.UNKNOWN)),
    ],
    ids=[
        "all-sent",
        "all-blacklisted",
        "all-canceled",
        "all-failed",
        "all-inconclusive",
        "none-sent",
        "some-sent",
        "mostly-sent",
        "empty",
    ],
)
def test_govdelivery_completed_outcome_follows_the_recipient_counts(
    recipients: dict[str, int], expected: Outcome
) -> None:
    assert completed_outcome(recipients) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("sending", Outcome(Status.SENDING)),
        ("sent", Outcome(Status.DELIVERED)),
        ("failed", Outcome(Status.UNDELIVERED, Reason.CARRIER_ERROR)),
        ("blacklisted", Outcome(Status.REJECTED, Reason.BLACKLISTED)),
        ("canceled", Outcome(Status.CANCELED)),
        ("inconclusive", Outcome(Status.UNDELIVERED, Reason.INCONCLUSIVE)),
    ],
)
def test_govdelivery_recipient_words_map_as_documented(word: str, expected: Outcome) -> None:
    assert RECIPIENT_STATUSES[word] == expected
