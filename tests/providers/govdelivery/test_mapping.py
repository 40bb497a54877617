"""GovDelivery TMS's mapping: message words and recipient counts, cell by cell
(docs/providers.md#govdelivery-status-words)."""

from __future__ import annotations

import pytest

from textstatus.providers.base import Outcome
from textstatus.providers.govdelivery import RECIPIENT_STATUSES, GovdeliveryAdapter, completed_outcome
from textstatus.status import Reason, Status


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
