"""USAJOBS, Comapi and GovDelivery adapters against their simulators over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from local.simulators.base import Fault
from local.simulators.comapi import ComapiSimulator
from local.simulators.govdelivery import GovdeliverySimulator
from local.simulators.usajobs import UsajobsSimulator
from tests.conftest import TEST_ENV
from textstatus.errors import (
    ProviderBadResponseError,
    ProviderRejectedRequestError,
    ProviderThrottledError,
    ProviderUnavailableError,
)
from textstatus.providers.base import ProviderAdapter
from textstatus.providers.comapi import ComapiAdapter, ComapiSettings
from textstatus.providers.govdelivery import GovdeliveryAdapter, GovdeliverySettings
from textstatus.providers.http import HttpSettings
from textstatus.providers.usajobs import UsajobsAdapter, UsajobsSettings
from textstatus.status import Reason, Status

# The simulators stamp their times with the real clock; provider times more than a day after
# `now` are not usable, so `now` here is the real one too.
NOW = datetime.now(UTC)
HTTP = HttpSettings(connect_timeout=1, read_timeout=2, pool_size=4)


def settle(seconds: float = 0.2) -> None:
    time.sleep(seconds)


# usajobs ------------------------------------------------------------------------------------


def usajobs(sim: UsajobsSimulator, key: str = TEST_ENV["USAJOBS_API_KEY"]) -> UsajobsAdapter:
    return UsajobsAdapter(UsajobsSettings.from_env({"USAJOBS_BASE_URL": sim.url, "USAJOBS_API_KEY": key}), HTTP)


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
    adapter = usajobs(usajobs_sim)
    response_id = usajobs_send(usajobs_sim, document_id, "x" * 200)
    assert adapter.fetch_status(response_id, NOW) is None  # TextMessageNotFound: no receipt yet
    settle()
    observation = adapter.fetch_status(response_id, NOW)
    assert observation is not None
    assert (observation.status, observation.reason) == (status, reason)
    assert (observation.provider_detail or "").startswith(detail_start)
    assert sum((observation.segments or {}).values()) == 2


def test_usajobs_wrong_key_is_a_rejected_request(usajobs_sim: UsajobsSimulator) -> None:
    with pytest.raises(ProviderRejectedRequestError):
        usajobs(usajobs_sim, key="wrong").fetch_status("0b5e1d8c-0000-4000-8000-000000000000", NOW)


def test_usajobs_an_empty_response_id_is_a_rejected_request(usajobs_sim: UsajobsSimulator) -> None:
    with pytest.raises(ProviderRejectedRequestError):
        usajobs(usajobs_sim).fetch_status("", NOW)


# comapi -------------------------------------------------------------------------------------


def comapi(sim: ComapiSimulator, token: str = TEST_ENV["COMAPI_TOKEN"]) -> ComapiAdapter:
    settings = ComapiSettings.from_env(
        {
            "COMAPI_BASE_URL": sim.url,
            "COMAPI_API_SPACE_ID": sim.api_space_id,
            "COMAPI_TOKEN": token,
            "COMAPI_WEBHOOK_SECRET": sim.webhook_secret,
        }
    )
    return ComapiAdapter(settings, HTTP)


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
    adapter = comapi(comapi_sim)
    sent = comapi_send(comapi_sim, phone)
    first = adapter.messages_in_send_response(sent, NOW).messages[0].first
    assert first is not None
    assert first.status in (Status.ACCEPTED, Status.FAILED)
    settle(0.25)
    observation = adapter.fetch_status(sent["messageId"], NOW)
    assert observation is not None
    assert (observation.status, observation.reason, observation.provider_status) == (status, reason, word)
    assert observation.provider_gave_time


def test_comapi_unknown_message_is_none_and_a_bad_token_is_refused(comapi_sim: ComapiSimulator) -> None:
    assert comapi(comapi_sim).fetch_status("0b5e1d8c-0000-4000-8000-000000000000", NOW) is None
    with pytest.raises(ProviderRejectedRequestError):
        comapi(comapi_sim, token="wrong").fetch_status("any", NOW)


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
    sent = comapi(comapi_sim).messages_in_send_response(response.json(), NOW).messages
    assert [m.message_id for m in sent] == [item["messageId"] for item in response.json()]
    assert all(m.first is None for m in sent)


# govdelivery --------------------------------------------------------------------------------


def govdelivery(sim: GovdeliverySimulator, token: str = TEST_ENV["GOVDELIVERY_TOKEN"]) -> GovdeliveryAdapter:
    settings = GovdeliverySettings.from_env(
        {"GOVDELIVERY_BASE_URL": sim.url, "GOVDELIVERY_TOKEN": token, "GOVDELIVERY_CALLBACK_TOKEN": "cb"}
    )
    return GovdeliveryAdapter(settings, HTTP)


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
    adapter = govdelivery(govdelivery_sim)
    sent = tms_send(govdelivery_sim, *phones)
    (registered,) = adapter.messages_in_send_response(sent, NOW).messages
    assert registered.first is not None
    assert registered.first.status is Status.ACCEPTED
    settle(0.25)
    observation = adapter.fetch_status(registered.message_id, NOW)
    assert observation is not None
    assert (observation.status, observation.reason) == (status, reason)
    assert observation.recipients is not None
    assert observation.recipients["total"] == len(phones)
    assert observation.provider_gave_time is (status is not Status.SENDING)


def test_govdelivery_unknown_message_is_none_and_a_bad_token_is_refused(govdelivery_sim: GovdeliverySimulator) -> None:
    assert govdelivery(govdelivery_sim).fetch_status("999999", NOW) is None
    with pytest.raises(ProviderRejectedRequestError):
        govdelivery(govdelivery_sim, token="wrong").fetch_status("165532", NOW)


# faults, for every adapter ------------------------------------------------------------------


@pytest.fixture(params=["usajobs", "comapi", "govdelivery"])
def faulty(request: pytest.FixtureRequest) -> tuple[Any, ProviderAdapter]:
    sim = request.getfixturevalue(f"{request.param}_sim")
    builders: dict[str, Callable[[Any], ProviderAdapter]] = {
        "usajobs": usajobs,
        "comapi": comapi,
        "govdelivery": govdelivery,
    }
    return sim, builders[request.param](sim)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(status=429, retry_after=3), ProviderThrottledError),
        (Fault(status=503, retry_after=4), ProviderThrottledError),
        (Fault(status=500), ProviderUnavailableError),
        (Fault(status=200, body=b"<html>maintenance</html>"), ProviderBadResponseError),
        (Fault(status=200, body=b'{"truncated": '), ProviderBadResponseError),
    ],
    ids=["429", "503-retry-after", "500", "html", "truncated"],
)
def test_every_adapter_turns_provider_faults_into_defined_errors(
    faulty: tuple[Any, ProviderAdapter], fault: Fault, error: type[Exception]
) -> None:
    sim, adapter = faulty
    sim.set_fault(fault)
    with pytest.raises(error):
        adapter.fetch_status("165532", NOW)


# error pages: the status code first ---------------------------------------------------------

HTML_PAGE = b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>"


@pytest.mark.parametrize(
    "body", [HTML_PAGE, b"", b"Not Found", b'{"error": "gone"}'], ids=["html", "empty", "text", "json"]
)
def test_usajobs_a_404_of_any_body_is_not_found(usajobs_sim: UsajobsSimulator, body: bytes) -> None:
    usajobs_sim.set_fault(Fault(status=404, body=body))
    assert usajobs(usajobs_sim).fetch_status("0b5e1d8c-0000-4000-8000-000000000000", NOW) is None


def test_usajobs_a_400_naming_text_message_not_found_is_not_found(usajobs_sim: UsajobsSimulator) -> None:
    usajobs_sim.set_fault(
        Fault(
            status=400,
            body=b'{"error": {"code": "BadRequest", "message": "Not found", "target": "responseID",'
            b' "details": [{"code": "TextMessageNotFound", "message": "Not found", "target": "responseID"}]}}',
        )
    )
    assert usajobs(usajobs_sim).fetch_status("0b5e1d8c-0000-4000-8000-000000000000", NOW) is None


@pytest.mark.parametrize(
    "body",
    [b"<html><body>Bad Request</body></html>", b'{"error": {"code": "BadRequest"}}', b"[" * 100_000],
    ids=["html", "other-code", "nested"],
)
def test_usajobs_any_other_400_is_a_rejected_request(usajobs_sim: UsajobsSimulator, body: bytes) -> None:
    usajobs_sim.set_fault(Fault(status=400, body=body))
    with pytest.raises(ProviderRejectedRequestError):
        usajobs(usajobs_sim).fetch_status("0b5e1d8c-0000-4000-8000-000000000000", NOW)


def test_an_error_page_that_is_not_json_is_judged_by_its_status_code(faulty: tuple[Any, ProviderAdapter]) -> None:
    sim, adapter = faulty
    sim.set_fault(Fault(status=409, body=b"<html>Conflict</html>"))
    with pytest.raises(ProviderBadResponseError, match="HTTP 409"):
        adapter.fetch_status("165532", NOW)


@pytest.mark.parametrize(
    "body",
    [b'{"deliveryStatus": "Delivered", "successfulSegments": ' + b"9" * 5000 + b"}", b"[" * 100_000 + b"]" * 100_000],
    ids=["integer-5000-digits", "nested-100000"],
)
def test_every_adapter_turns_json_it_cannot_hold_into_a_bad_response(
    faulty: tuple[Any, ProviderAdapter], body: bytes
) -> None:
    sim, adapter = faulty
    sim.set_fault(Fault(status=200, body=body))
    with pytest.raises(ProviderBadResponseError):
        adapter.fetch_status("165532", NOW)


def test_usajobs_a_5000_digit_code_is_kept_as_text_with_an_unknown_reason(usajobs_sim: UsajobsSimulator) -> None:
    detail = "4" * 5000 + ": Carrier said something"
    usajobs_sim.set_fault(
        Fault(
            status=200,
            body=json.dumps(
                {
                    "responseId": "r",
                    "deliveryStatus": "Failed",
                    "deliveryStatusDetails": detail,
                    "successfulSegments": -1,
                    "failedSegments": float("inf"),
                }
            ).encode(),
        )
    )
    observation = usajobs(usajobs_sim).fetch_status("0b5e1d8c-0000-4000-8000-000000000000", NOW)
    assert observation is not None
    assert (observation.status, observation.reason, observation.segments) == (Status.UNDELIVERED, Reason.UNKNOWN, None)
    assert observation.provider_detail == detail[:500]
