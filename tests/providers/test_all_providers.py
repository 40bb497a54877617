"""What holds for every provider at once: the values every adapter reads (counts, times, Retry-After),
send responses of each provider, faults of every adapter against its simulator, callback methods."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from local.simulators.base import Fault
from tests.support.adapters import comapi_adapter, govdelivery_adapter, usajobs_adapter, wunderkind_adapter
from tests.support.api import register
from tests.support.aws import api_event, invoke, table_items
from tests.support.payloads import COMAPI_201, GOVDELIVERY_201, NOW, USAJOBS_200, WUNDERKIND_200
from textstatus.errors import (
    ProviderBadResponseError,
    ProviderThrottledError,
    ProviderUnavailableError,
    UnknownProviderError,
)
from textstatus.providers.base import ProviderAdapter, SentMessage, SentMessages
from textstatus.providers.govdelivery import GovdeliveryAdapter
from textstatus.providers.http import DEFAULT_RETRY_AFTER_SECONDS, retry_after_seconds
from textstatus.providers.payloads import bounded_count, first_usable_time, quoted
from textstatus.providers.registry import PROVIDER_NAMES, adapter_class
from textstatus.providers.usajobs import UsajobsAdapter

# values every adapter reads -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (2, 2),
        (10**9, 10**9),
        (10**9 + 1, None),
        (10**4000, None),
        (-1, None),
        (1.0, None),
        (float("inf"), None),
        (float("nan"), None),
        ("2", None),
        (True, None),
        (False, None),
        (None, None),
        ({}, None),
    ],
)
def test_a_count_is_an_integer_from_zero_to_a_billion(value: object, expected: int | None) -> None:
    assert bounded_count(value) == expected


@pytest.mark.parametrize("value", ["nan", "NaN", "-nan", "Fri, 31 Dec 9999 23:59:59 -0100", "x" * 5000])
def test_a_retry_after_we_cannot_use_is_the_default_pause(value: str) -> None:
    assert retry_after_seconds(value, NOW) == DEFAULT_RETRY_AFTER_SECONDS


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("inf", 3600.0), ("1e999", 3600.0), ("-5", 0.0), ("7", 7.0), ("Mon, 01 Jan 0001 00:00:00 +0100", 0.0)],
)
def test_a_retry_after_is_bounded(value: str, seconds: float) -> None:
    assert retry_after_seconds(value, NOW) == seconds


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("9999-12-31T23:59:59-01:00", "'9999-12-31T23:59:59-01:00'"),
        ("x" * 100, "'" + "x" * 64 + "...'"),
        (None, "null"),
        (True, "true"),
        (10**4000, "an integer of about 4001 digits"),
        (float("nan"), "nan"),
        ({"a": 1}, "an object"),
    ],
)
def test_a_value_we_could_not_use_is_quoted_short(value: object, text: str) -> None:
    assert quoted(value) == text


def test_the_first_usable_time_wins_and_unusable_ones_before_it_are_noted() -> None:
    moment, notes = first_usable_time(
        [("a", "0001-01-01T00:00:00+01:00"), ("b", None), ("c", "2026-11-22T10:00:00Z"), ("d", "garbage")], NOW
    )
    assert moment == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert notes == ["a '0001-01-01T00:00:00+01:00' not usable"]


# send responses -----------------------------------------------------------------------------


def test_usajobs_and_wunderkind_send_responses_carry_only_an_id() -> None:
    usajobs = usajobs_adapter()
    wunderkind = wunderkind_adapter()
    response_id = "3f1c8e52-9b7d-4f7e-a1b2-6c5d4e3f2a10"
    claim = {"status": "DELIVERED", "deliveryStatus": "Delivered"}
    assert usajobs.messages_in_send_response({"responseId": response_id, **claim}, NOW) == SentMessages(
        [SentMessage(response_id)]
    )
    assert wunderkind.messages_in_send_response({"messageId": response_id, **claim}, NOW) == SentMessages(
        [SentMessage(response_id)]
    )
    assert GovdeliveryAdapter.confirms_reports
    assert not UsajobsAdapter.confirms_reports


# faults, for every adapter against its simulator ----------------------------------------------


@pytest.fixture(params=["usajobs", "comapi", "govdelivery"])
def faulty(request: pytest.FixtureRequest) -> tuple[Any, ProviderAdapter]:
    sim = request.getfixturevalue(f"{request.param}_sim")
    builders: dict[str, Callable[[Any], ProviderAdapter]] = {
        "usajobs": usajobs_adapter,
        "comapi": comapi_adapter,
        "govdelivery": govdelivery_adapter,
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


def test_an_error_page_that_is_not_json_is_judged_by_its_status_code(faulty: tuple[Any, ProviderAdapter]) -> None:
    sim, adapter = faulty
    sim.set_fault(Fault(status=409, body=b"<html>Conflict</html>"))
    with pytest.raises(ProviderBadResponseError, match="HTTP 409"):
        adapter.fetch_status("165532", NOW)


def test_every_adapter_turns_json_it_cannot_hold_into_a_bad_response(faulty: tuple[Any, ProviderAdapter]) -> None:
    sim, adapter = faulty
    sim.set_fault(Fault(status=200, body=b"[" * 100_000 + b"]" * 100_000))
    with pytest.raises(ProviderBadResponseError):
        adapter.fetch_status("165532", NOW)


# callbacks and send responses through the handlers ----------------------------------------------


@pytest.mark.parametrize("provider", ["comapi", "govdelivery", "usajobs"])
def test_put_is_only_for_wunderkind(callbacks: Any, provider: str) -> None:
    code, _, answer = invoke(callbacks, api_event("PUT", f"/v1/callbacks/{provider}", body={}))
    assert code in (400, 404)
    assert table_items() == []
    assert answer["error"]["code"] in ("BadRequest", "CallbacksNotSupported")


@pytest.mark.parametrize(
    ("provider", "response", "message_id", "status", "provider_status"),
    [
        ("comapi", COMAPI_201, "d8e296bb-97c4-4495-b98f-1e32e0b11628", "accepted", "processing"),
        ("comapi", {**COMAPI_201, "status": "failed"}, "d8e296bb-97c4-4495-b98f-1e32e0b11628", "failed", "failed"),
        # TMS's word in a send response is a claim to confirm with TMS, which cannot be reached
        # here (a closed port): tracked by id alone, the poller asks TMS later.
        ("govdelivery", GOVDELIVERY_201, "165532", "accepted", None),
        ("usajobs", USAJOBS_200, USAJOBS_200["responseId"], "accepted", None),
        ("wunderkind", WUNDERKIND_200, WUNDERKIND_200["messageId"], "accepted", None),
    ],
    ids=["comapi-201", "comapi-201-failed", "govdelivery", "usajobs", "wunderkind"],
)
def test_a_single_send_response_registers_its_message_with_the_providers_first_word(
    status_api: Any, provider: str, response: Any, message_id: str, status: str, provider_status: str | None
) -> None:
    code, answer = register(status_api, {"provider": provider, "sendResponse": response, "reference": "campaign-7"})
    assert code == 201
    (message,) = answer["messages"]
    assert (message["messageId"], message["status"], message["providerStatus"]) == (message_id, status, provider_status)
    assert (message["new"], message["reference"], message["source"]) == (True, "campaign-7", "registration")
    assert message["final"] is (status == "failed")


@pytest.mark.parametrize(
    ("provider", "response"),
    [
        ("comapi", [{"index": 0}]),
        ("comapi", {"status": "processing"}),
        ("comapi", []),
        ("govdelivery", {"status": "new"}),
        ("usajobs", {"messageId": "x"}),
        ("wunderkind", [WUNDERKIND_200]),
    ],
    ids=[
        "comapi-batch-no-id",
        "comapi-no-id",
        "comapi-empty",
        "govdelivery-no-link",
        "usajobs-wrong-field",
        "wunderkind-array",
    ],
)
def test_a_send_response_without_message_ids_is_400_and_stores_nothing(
    status_api: Any, provider: str, response: Any
) -> None:
    code, answer = register(status_api, {"provider": provider, "sendResponse": response})
    assert code == 400
    assert answer["error"]["target"] == "sendResponse"
    assert table_items() == []


# the registry ---------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_each_registry_entry_loads_the_adapter_of_that_name(provider: str) -> None:
    assert adapter_class(provider).name == provider


def test_an_unknown_provider_has_no_adapter_class() -> None:
    with pytest.raises(UnknownProviderError):
        adapter_class("twilio")
