"""GovDelivery TMS's send responses: claims to confirm, parsed by the adapter and registered
through POST /v1/messages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.adapters import govdelivery_adapter
from tests.support.api import register
from tests.support.payloads import GOVDELIVERY_201, NOW
from textstatus.errors import InvalidRequestError
from textstatus.status import Status

# The send response of a message TMS says it completed (a claim, for `confirm` to check).
GOVDELIVERY_COMPLETED = {
    **GOVDELIVERY_201,
    "status": "completed",
    "completed_at": "2026-11-22T09:59:30Z",
    "recipient_counts": {**GOVDELIVERY_201["recipient_counts"], "new": 0, "sent": 2},
}


def test_govdelivery_send_response_status_is_a_claim_to_confirm() -> None:
    (sent,) = govdelivery_adapter().messages_in_send_response(GOVDELIVERY_COMPLETED, NOW).messages
    assert sent.message_id == "165532"
    assert sent.needs_confirmation is True
    assert sent.first is not None
    assert sent.first.status is Status.DELIVERED  # what it claims, for `confirm` to check


def test_govdelivery_send_response_with_an_unusable_completed_at_keeps_the_received_time() -> None:
    payload = {**GOVDELIVERY_COMPLETED, "completed_at": "9999-12-31T23:59:59-01:00"}
    (sent,) = govdelivery_adapter().messages_in_send_response(payload, NOW).messages
    assert sent.first is not None
    assert (sent.first.event_at, sent.first.provider_gave_time) == (NOW, False)
    assert "completed_at '9999-12-31T23:59:59-01:00' not usable" in (sent.first.provider_detail or "")


@pytest.mark.parametrize("bad_id", [True, 1e999, float("nan"), 10**30, -1, 1.5, {"$ne": 1}])
def test_govdelivery_send_response_id_that_is_not_an_id_is_refused(bad_id: object) -> None:
    with pytest.raises(InvalidRequestError):
        govdelivery_adapter().messages_in_send_response({"id": bad_id, "status": "new"}, NOW)


def test_govdelivery_send_response_numeric_id_is_kept() -> None:
    (sent,) = govdelivery_adapter().messages_in_send_response({"id": 165532, "status": "new"}, NOW).messages
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
    observation = govdelivery_adapter().message_observation(
        "165532", {"status": "sending", "recipient_counts": counts}, NOW
    )
    assert observation is not None
    assert observation.recipients is None or all(
        key in ("total", "new", "sending", "sent", "failed") and 0 <= value <= 10**9
        for key, value in observation.recipients.items()
    )
    if counts.get("failed") != 1:
        assert observation.status is Status.SENDING


def test_a_govdelivery_send_response_claiming_completed_is_not_delivered_until_tms_says_so(status_api: Any) -> None:
    claim = {**GOVDELIVERY_COMPLETED, "completed_at": "2014-10-07T17:27:15Z"}
    code, answer = register(status_api, {"provider": "govdelivery", "sendResponse": claim})
    # TMS (a closed port here) cannot confirm the claim: the message is tracked by id alone and
    # the poller asks TMS later.
    assert code == 201
    assert answer["messages"][0]["status"] == "accepted"
