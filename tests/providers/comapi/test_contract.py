"""The Comapi adapter against its simulator over real HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from local.simulators.comapi import ComapiSimulator
from tests.conftest import TEST_ENV
from tests.support.adapters import comapi_adapter
from textstatus.errors import (
    ProviderRejectedRequestError,
)
from textstatus.status import Reason, Status

# The simulators stamp their times with the real clock; provider times more than a day after
# `now` are not usable, so `now` here is the real one too.
NOW = datetime.now(UTC)


def comapi_send(sim: ComapiSimulator, phone: str) -> dict[str, Any]:
    response = requests.post(
        f"{sim.url}{sim.messages_path}",
        json={"body": "Your parcel arrives today", "to": {"phoneNumber": phone}, "rules": ["sms"]},
        headers={"Authorization": f"Bearer {TEST_ENV['COMAPI_TOKEN']}"},
        timeout=5,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("phone", "status", "reason", "word"),
    [
        ("447700900000", Status.DELIVERED, None, "delivered"),
        ("447700900001", Status.FAILED, Reason.PROVIDER_ERROR, "failed"),
        ("447700900002", Status.UNDELIVERED, Reason.EXPIRED_AT_PROVIDER, "expired"),
        ("447700900003", Status.REJECTED, Reason.UNKNOWN, "filtered"),
        ("447700900004", Status.DELIVERED, None, "read"),
        ("447700900005", Status.SENT, None, "sent"),
        ("447700900006", None, Reason.UNKNOWN, "undeliverable_queued"),
    ],
)
def test_comapi_reports_every_outcome_with_its_update_time(
    comapi_sim: ComapiSimulator, phone: str, status: Status | None, reason: Reason | None, word: str
) -> None:
    adapter = comapi_adapter(comapi_sim)
    sent = comapi_send(comapi_sim, phone)
    first = adapter.messages_in_send_response(sent, NOW).messages[0].first
    assert first is not None
    assert first.status in (Status.ACCEPTED, Status.FAILED)
    time.sleep(0.25)
    observation = adapter.fetch_status(sent["messageId"], NOW)
    assert observation is not None
    assert (observation.status, observation.reason, observation.provider_status) == (status, reason, word)
    assert observation.provider_gave_time


def test_comapi_unknown_message_is_none_and_a_bad_token_is_refused(comapi_sim: ComapiSimulator) -> None:
    assert comapi_adapter(comapi_sim).fetch_status("0b5e1d8c-0000-4000-8000-000000000000", NOW) is None
    with pytest.raises(ProviderRejectedRequestError):
        comapi_adapter(comapi_sim, COMAPI_TOKEN="wrong").fetch_status("any", NOW)


def test_comapi_batch_send_response_names_every_message(comapi_sim: ComapiSimulator) -> None:
    response = requests.post(
        f"{comapi_sim.url}{comapi_sim.messages_path}/batch",
        json=[
            {"body": "a", "to": {"phoneNumber": "447700900000"}},
            {"body": "b", "to": {"phoneNumber": "447700900001"}},
        ],
        headers={"Authorization": f"Bearer {TEST_ENV['COMAPI_TOKEN']}"},
        timeout=5,
    )
    assert response.status_code == 202
    sent = comapi_adapter(comapi_sim).messages_in_send_response(response.json(), NOW).messages
    assert [m.message_id for m in sent] == [item["messageId"] for item in response.json()]
    assert all(m.first is None for m in sent)
