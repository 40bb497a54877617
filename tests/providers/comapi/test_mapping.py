"""Comapi's mapping table, cell by cell (docs/providers.md#comapi-status-words)."""

from __future__ import annotations

import pytest

from textstatus.providers.base import UNKNOWN_OUTCOME, Outcome
from textstatus.providers.comapi import ComapiAdapter
from textstatus.status import Reason, Status

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
