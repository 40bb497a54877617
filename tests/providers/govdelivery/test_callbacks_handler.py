"""GovDelivery TMS's callbacks through the callbacks function on moto, each confirmed with TMS."""

from __future__ import annotations

import time
from typing import Any

import pytest

from local.simulators.govdelivery import GovdeliverySimulator
from tests.support.api import events_of, govdelivery_post, status_of
from tests.support.aws import table_items
from tests.support.payloads import govdelivery_fields


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_govdelivery_callback_is_confirmed_by_fetching_the_message(
    callbacks: Any, status_api: Any, govdelivery_sim: GovdeliverySimulator, as_json: bool
) -> None:
    message = govdelivery_sim.add_sms(["+15555550000", "+15555550001"], silent=True)
    time.sleep(0.2)
    # The callback claims one recipient's `sent`; TMS says one of two failed.
    code, answer = govdelivery_post(
        callbacks, govdelivery_fields(govdelivery_sim.url, message.message_id, "sent"), as_json=as_json
    )
    assert (code, answer["accepted"]) == (200, 1)
    status = status_of(status_api, "govdelivery", message.message_id)
    assert status["status"] == "partially_delivered"
    assert status["recipients"]["sent"] == 1
    assert status["recipients"]["failed"] == 1
    # Only what TMS said: nothing of the callback's claim is in the confirmed status.
    assert status["providerDetail"] == "total 2, sent 1, failed 1"


def test_govdelivery_a_forged_status_cannot_beat_what_tms_says(
    callbacks: Any, status_api: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    message = govdelivery_sim.add_sms(["+15555550005"], silent=True)  # TMS: still sending
    code, _ = govdelivery_post(callbacks, govdelivery_fields(govdelivery_sim.url, message.message_id, "sent"))
    assert code == 200
    assert status_of(status_api, "govdelivery", message.message_id)["status"] in ("accepted", "sending")


def test_govdelivery_a_callback_for_a_message_tms_does_not_know_is_ignored(
    callbacks: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    code, answer = govdelivery_post(callbacks, govdelivery_fields(govdelivery_sim.url, "424242", "sent"))
    assert (code, answer) == (200, {"accepted": 0, "duplicates": 0, "ignored": 1})
    assert table_items() == []


@pytest.mark.parametrize("token", ["", "guess"], ids=["missing", "wrong"])
def test_govdelivery_a_bad_token_is_401_and_nothing_is_fetched_or_stored(
    callbacks: Any, govdelivery_sim: GovdeliverySimulator, token: str
) -> None:
    code, answer = govdelivery_post(callbacks, govdelivery_fields(govdelivery_sim.url, "165532", "sent"), token=token)
    assert (code, answer["error"]["code"]) == (401, "Unauthorized")
    assert sum(govdelivery_sim.request_counts.values()) == 0
    assert table_items() == []


def test_govdelivery_confirmation_failing_answers_503_so_tms_retries(
    callbacks: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    from local.simulators.base import Fault

    govdelivery_sim.set_fault(Fault(status=502))
    code, answer = govdelivery_post(callbacks, govdelivery_fields(govdelivery_sim.url, "165532", "sent"))
    assert (code, answer["error"]["code"]) == (503, "ProviderUnavailable")
    assert table_items() == []


def test_govdelivery_a_callback_tms_does_not_confirm_changes_nothing(
    callbacks: Any, status_api: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    message = govdelivery_sim.add_sms(["+15555550005"], silent=True)  # TMS: never leaves sending
    time.sleep(0.2)
    fields = govdelivery_fields(govdelivery_sim.url, message.message_id, "failed", error_message="Number unreachable")
    assert govdelivery_post(callbacks, fields)[1]["accepted"] == 1
    before = status_of(status_api, "govdelivery", message.message_id)
    # Another unconfirmed claim with other text: kept in the history (a new report, so accepted),
    # but TMS still says the same, so the status does not change.
    code, answer = govdelivery_post(callbacks, {**fields, "error_message": "Carrier blocked it"})
    assert (code, answer) == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    after = status_of(status_api, "govdelivery", message.message_id)
    assert (after["version"], after["providerDetail"]) == (before["version"], before["providerDetail"])
    assert "Number unreachable" not in (after["providerDetail"] or "")


def test_govdelivery_the_history_names_the_recipient_each_callback_was_about(
    callbacks: Any, status_api: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    message = govdelivery_sim.add_sms(["+15555550000", "+15555550001"], silent=True)
    time.sleep(0.2)
    sent_to, failed_to = (str(r["id"]) for r in message.data["recipients"])
    base = govdelivery_fields(govdelivery_sim.url, message.message_id, "sent")
    for recipient, status in ((sent_to, "sent"), (failed_to, "failed")):
        url = f"{govdelivery_sim.url}/messages/sms/{message.message_id}/recipients/{recipient}"
        assert govdelivery_post(callbacks, {**base, "status": status, "recipient_url": url})[0] == 200
    history = events_of(status_api, "govdelivery", message.message_id)
    claims = {
        e["providerStatus"]: e["recipientId"] for e in history if (e["providerDetail"] or "").startswith("recipient")
    }
    assert claims == {"sent": sent_to, "failed": failed_to}
    # What TMS said about the message as a whole names no recipient.
    assert {e["recipientId"] for e in history if e["changedStatus"]} == {None}
