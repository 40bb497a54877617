"""The GovDelivery adapter against the TMS simulator over real HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from local.simulators.govdelivery import GovdeliverySimulator
from tests.conftest import TEST_ENV
from tests.support.adapters import govdelivery_adapter
from textstatus.errors import (
    ProviderRejectedRequestError,
)
from textstatus.status import Reason, Status

# The simulators stamp their times with the real clock; provider times more than a day after
# `now` are not usable, so `now` here is the real one too.
NOW = datetime.now(UTC)


def tms_send(sim: GovdeliverySimulator, *phones: str) -> dict[str, Any]:
    response = requests.post(
        f"{sim.url}/messages/sms",
        json={"body": "Today is Sunny and 70F", "recipients": [{"phone": p} for p in phones]},
        headers={"X-AUTH-TOKEN": TEST_ENV["GOVDELIVERY_TOKEN"]},
        timeout=5,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("phones", "status", "reason"),
    [
        (["+15555550000", "+15555550009"], Status.DELIVERED, None),
        (["+15555550001"], Status.UNDELIVERED, Reason.CARRIER_ERROR),
        (["+15555550002"], Status.REJECTED, Reason.BLACKLISTED),
        (["+15555550003"], Status.CANCELED, None),
        (["+15555550004"], Status.UNDELIVERED, Reason.INCONCLUSIVE),
        (["+15555550000", "+15555550001"], Status.PARTIALLY_DELIVERED, None),
        (["+15555550005"], Status.SENDING, None),
    ],
)
def test_govdelivery_reports_the_outcome_of_its_recipients(
    govdelivery_sim: GovdeliverySimulator, phones: list[str], status: Status, reason: Reason | None
) -> None:
    adapter = govdelivery_adapter(govdelivery_sim)
    sent = tms_send(govdelivery_sim, *phones)
    (registered,) = adapter.messages_in_send_response(sent, NOW).messages
    assert registered.first is not None
    assert registered.first.status is Status.ACCEPTED
    time.sleep(0.25)
    observation = adapter.fetch_status(registered.message_id, NOW)
    assert observation is not None
    assert (observation.status, observation.reason) == (status, reason)
    assert observation.recipients is not None
    assert observation.recipients["total"] == len(phones)
    assert observation.provider_gave_time is (status is not Status.SENDING)


def test_govdelivery_unknown_message_is_none_and_a_bad_token_is_refused(govdelivery_sim: GovdeliverySimulator) -> None:
    assert govdelivery_adapter(govdelivery_sim).fetch_status("999999", NOW) is None
    with pytest.raises(ProviderRejectedRequestError):
        govdelivery_adapter(govdelivery_sim, GOVDELIVERY_TOKEN="wrong").fetch_status("165532", NOW)
