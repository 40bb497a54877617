"""The USAJOBS adapter against its simulator over real HTTP."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import requests

from local.simulators.base import Fault
from local.simulators.usajobs import UsajobsSimulator
from tests.conftest import TEST_ENV
from tests.support.adapters import usajobs_adapter
from textstatus.errors import ProviderBadResponseError, ProviderRejectedRequestError
from textstatus.status import Reason, Status

# The simulators stamp their times with the real clock; provider times more than a day after
# `now` are not usable, so `now` here is the real one too.
NOW = datetime.now(UTC)


def usajobs_send(sim: UsajobsSimulator, document_id: str, text: str = "Your application was received.") -> str:
    response = requests.post(
        f"{sim.url}/api/textmessaging/sendmessage",
        json={"alternateDocumentID": document_id, "message": text},
        headers={"X-Api-Key": TEST_ENV["USAJOBS_API_KEY"]},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    response_id: str = response.json()["responseId"]
    return response_id


@pytest.mark.parametrize(
    ("document_id", "status", "reason", "detail_start"),
    [
        ("DOC-1", Status.DELIVERED, None, "2000:"),
        ("DOC-2-optout", Status.REJECTED, Reason.OPTED_OUT, "4007:"),
        ("DOC-3-badnumber", Status.UNDELIVERED, Reason.INVALID_DESTINATION, "4003:"),
        ("DOC-4-carrier", Status.UNDELIVERED, Reason.UNKNOWN, "4105:"),
    ],
)
def test_usajobs_reports_every_outcome_after_a_not_found_period(
    usajobs_sim: UsajobsSimulator, document_id: str, status: Status, reason: Reason | None, detail_start: str
) -> None:
    adapter = usajobs_adapter(usajobs_sim)
    response_id = usajobs_send(usajobs_sim, document_id, "x" * 200)
    assert adapter.fetch_status(response_id, NOW) is None  # TextMessageNotFound: no receipt yet
    time.sleep(0.2)
    observation = adapter.fetch_status(response_id, NOW)
    assert observation is not None
    assert (observation.status, observation.reason) == (status, reason)
    assert (observation.provider_detail or "").startswith(detail_start)
    assert sum((observation.segments or {}).values()) == 2


def test_usajobs_wrong_key_is_a_rejected_request(usajobs_sim: UsajobsSimulator) -> None:
    with pytest.raises(ProviderRejectedRequestError):
        usajobs_adapter(usajobs_sim, USAJOBS_API_KEY="wrong").fetch_status("0b5e1d8c-0000-4000-8000-000000000000", NOW)


def test_usajobs_an_empty_response_id_is_a_rejected_request(usajobs_sim: UsajobsSimulator) -> None:
    with pytest.raises(ProviderRejectedRequestError):
        usajobs_adapter(usajobs_sim).fetch_status("", NOW)


HTML_PAGE = b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>"


@pytest.mark.parametrize(
    "body", [HTML_PAGE, b"", b"Not Found", b'{"error": "gone"}'], ids=["html", "empty", "text", "json"]
)
def test_usajobs_a_404_of_any_body_is_not_found(usajobs_sim: UsajobsSimulator, body: bytes) -> None:
    usajobs_sim.set_fault(Fault(status=404, body=body))
    assert usajobs_adapter(usajobs_sim).fetch_status("0b5e1d8c-0000-4000-8000-000000000000", NOW) is None


def test_usajobs_a_400_naming_text_message_not_found_is_not_found(usajobs_sim: UsajobsSimulator) -> None:
    usajobs_sim.set_fault(
        Fault(
            status=400,
            body=b'{"error": {"code": "BadRequest", "message": "Not found", "target": "responseID",'
            b' "details": [{"code": "TextMessageNotFound", "message": "Not found", "target": "responseID"}]}}',
        )
    )
    assert usajobs_adapter(usajobs_sim).fetch_status("0b5e1d8c-0000-4000-8000-000000000000", NOW) is None


@pytest.mark.parametrize(
    "body",
    [b"<html><body>Bad Request</body></html>", b'{"error": {"code": "BadRequest"}}', b"[" * 100_000],
    ids=["html", "other-code", "nested"],
)
def test_usajobs_any_other_400_is_a_rejected_request(usajobs_sim: UsajobsSimulator, body: bytes) -> None:
    usajobs_sim.set_fault(Fault(status=400, body=body))
    with pytest.raises(ProviderRejectedRequestError):
        usajobs_adapter(usajobs_sim).fetch_status("0b5e1d8c-0000-4000-8000-000000000000", NOW)


def test_usajobs_a_5000_digit_code_is_kept_as_text_with_an_unknown_reason(usajobs_sim: UsajobsSimulator) -> None:
    detail = "4" * 5000 + ": Carrier said something"
    usajobs_sim.set_fault(
        Fault(
            status=200,
            body=json.dumps(
                {
                    "responseId": "0b5e1d8c-0000-4000-8000-000000000000",
                    "deliveryStatus": "Failed",
                    "deliveryStatusDetails": detail,
                    "successfulSegments": -1,
                    "failedSegments": float("inf"),
                }
            ).encode(),
        )
    )
    observation = usajobs_adapter(usajobs_sim).fetch_status("0b5e1d8c-0000-4000-8000-000000000000", NOW)
    assert observation is not None
    assert (observation.status, observation.reason, observation.segments) == (Status.UNDELIVERED, Reason.UNKNOWN, None)
    assert observation.provider_detail == detail[:500]


def test_a_number_too_long_to_read_is_a_count_we_drop_not_an_unreadable_answer(usajobs_sim: UsajobsSimulator) -> None:
    # Python refuses integers of more than 4,300 digits; the answer is read all the same, and the
    # count, not a number we can use, is dropped like any other unusable count.
    message_id = "0b5e1d8c-0000-4000-8000-000000000000"
    body = f'{{"responseId": "{message_id}", "deliveryStatus": "Delivered", "successfulSegments": '.encode()
    usajobs_sim.set_fault(Fault(status=200, body=body + b"9" * 5000 + b"}"))
    observation = usajobs_adapter(usajobs_sim).fetch_status(message_id, NOW)
    assert observation is not None
    assert (observation.status, observation.segments) == (Status.DELIVERED, None)


def test_an_answer_about_another_message_is_a_bad_response_not_evidence(usajobs_sim: UsajobsSimulator) -> None:
    usajobs_sim.set_fault(Fault(status=200, body=b'{"responseId": "someone-else", "deliveryStatus": "Delivered"}'))
    with pytest.raises(ProviderBadResponseError, match="another message"):
        usajobs_adapter(usajobs_sim).fetch_status("0b5e1d8c-0000-4000-8000-000000000000", NOW)
