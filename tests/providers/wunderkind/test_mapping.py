"""Wunderkind's mapping table, cell by cell, from its documented status words."""

from __future__ import annotations

import pytest

from textstatus.providers.base import UNKNOWN_OUTCOME
from textstatus.providers.wunderkind import WunderkindAdapter
from textstatus.status import Reason, Status

DOCUMENTED = [
    ("PENDING_TO_SEND", Status.ACCEPTED, None),
    ("SENDING", Status.SENDING, None),
    ("DELIVERED", Status.DELIVERED, None),
    ("FAILED_TO_SEND", Status.FAILED, Reason.PROVIDER_ERROR),
    ("FAILED_TO_DELIVERY", Status.UNDELIVERED, Reason.CARRIER_ERROR),
    ("NOT_FOUND", Status.REJECTED, Reason.NO_SUBSCRIPTION),
    ("NOT_SUBSCRIBED", Status.REJECTED, Reason.NOT_SUBSCRIBED),
    ("FAILED_TO_MATCH", Status.REJECTED, Reason.NO_MATCH),
]


@pytest.mark.parametrize(("word", "status", "reason"), DOCUMENTED)
def test_documented_word_maps_to_its_status_and_reason(word: str, status: Status, reason: Reason | None) -> None:
    outcome = WunderkindAdapter.outcome(word)
    assert (outcome.status, outcome.reason) == (status, reason)


def test_every_documented_word_is_in_the_table_and_nothing_else() -> None:
    assert set(WunderkindAdapter.statuses) == {word for word, _, _ in DOCUMENTED}


@pytest.mark.parametrize("printed", ["FAILED_TO_ MATCH", " FAILED_TO_MATCH\n", "failed_to_match"])
def test_whitespace_and_case_as_printed_in_the_docs_still_match(printed: str) -> None:
    assert WunderkindAdapter.outcome(printed).reason is Reason.NO_MATCH


@pytest.mark.parametrize("word", ["QUEUED_AT_CARRIER", "", "DELIVERED_MAYBE"])
def test_an_unknown_word_changes_nothing_and_says_unknown(word: str) -> None:
    outcome = WunderkindAdapter.outcome(word)
    assert outcome == UNKNOWN_OUTCOME
    assert outcome.status is None
    assert outcome.reason is Reason.UNKNOWN
