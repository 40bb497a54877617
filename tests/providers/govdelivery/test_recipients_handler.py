"""GET /v1/messages/{provider}/{messageId}/recipients through the status API function on moto,
with the TMS simulator behind it: pages, cursors, TMS's 202, filters, and every refusal."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from local.simulators.base import Fault
from local.simulators.govdelivery import GovdeliverySimulator
from tests.support.api import get
from tests.support.aws import api_event, invoke, table_items
from tests.support.payloads import tms_recipients

BLACKLISTED = "+15555550002"  # the simulator's blacklisted number


def finished(sim: GovdeliverySimulator, phones: list[str], building: int = 0) -> str:
    message = sim.add_sms(phones, silent=True, building=building)
    time.sleep(0.25)  # every recipient has reached its outcome
    return message.message_id


def recipients_path(message_id: str, provider: str = "govdelivery") -> str:
    return f"/v1/messages/{provider}/{message_id}/recipients"


def list_requests(sim: GovdeliverySimulator, message_id: str) -> int:
    return sim.request_counts[f"/messages/sms/{message_id}/recipients"]


def test_govdelivery_recipients_120_in_three_pages_after_one_202(
    status_api: Any, govdelivery_sim: GovdeliverySimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    phones = tms_recipients(120)
    message_id = finished(govdelivery_sim, phones, building=1)
    code, headers, body = get(status_api, recipients_path(message_id))
    assert (code, headers["Retry-After"]) == (202, "10")
    assert (body["provider"], body["messageId"], body["retryAfter"]) == ("govdelivery", message_id, 10)
    answers: list[dict[str, Any]] = []
    query: dict[str, str] = {}
    while True:
        code, _, body = get(status_api, recipients_path(message_id), **query)
        assert code == 200, body
        answers.append(body)
        if body["nextCursor"] is None:
            break
        query = {"cursor": body["nextCursor"]}
    assert [len(a["recipients"]) for a in answers] == [50, 50, 20]
    everyone = [r for a in answers for r in a["recipients"]]
    assert len({r["recipientId"] for r in everyone}) == 120
    assert [r["phone"] for r in everyone] == ["*******" + phone[-4:] for phone in phones]
    failed = [r for r in everyone if r["providerStatus"] == "failed"]
    assert len(failed) == 12
    assert all((r["status"], r["reason"]) == ("undelivered", "carrier_error") and r["errorMessage"] for r in failed)
    assert all(r["status"] == "delivered" and r["errorMessage"] is None for r in everyone if r not in failed)
    assert all(r["completedAt"] for r in everyone)
    # Personal data: no whole number in an answer or a log line, and nothing stored.
    seen = json.dumps(answers) + capsys.readouterr().out
    assert not any(phone[2:] in seen or phone[-7:] in seen for phone in phones)
    assert table_items() == []


def test_govdelivery_failed_recipients_come_from_tms_own_failed_list(
    status_api: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    message_id = finished(govdelivery_sim, tms_recipients(120))
    code, _, body = get(status_api, recipients_path(message_id), status="failed")
    assert code == 200, body
    assert (len(body["recipients"]), body["nextCursor"]) == (12, None)
    assert {r["providerStatus"] for r in body["recipients"]} == {"failed"}
    assert all(r["errorMessage"] for r in body["recipients"])
    assert govdelivery_sim.request_counts[f"/messages/sms/{message_id}/recipients/failed"] == 1
    assert list_requests(govdelivery_sim, message_id) == 0


def test_govdelivery_a_filtered_list_reads_at_most_four_tms_pages_per_answer(
    status_api: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    phones = [f"+1555010{n:04d}" for n in range(249)] + [BLACKLISTED]  # the only match is on page 5
    message_id = finished(govdelivery_sim, phones)
    code, _, first = get(status_api, recipients_path(message_id), status="blacklisted")
    assert (code, first["recipients"]) == (200, [])
    assert first["nextCursor"] is not None
    assert list_requests(govdelivery_sim, message_id) == 4
    code, _, second = get(status_api, recipients_path(message_id), status="blacklisted", cursor=first["nextCursor"])
    assert code == 200
    assert [(r["phone"], r["status"], r["reason"]) for r in second["recipients"]] == [
        ("*******0002", "rejected", "blacklisted")
    ]
    assert second["nextCursor"] is None
    assert list_requests(govdelivery_sim, message_id) == 5


def test_govdelivery_a_filtered_list_reads_no_more_pages_than_the_time_left_allows(
    status_api: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    message_id = finished(govdelivery_sim, [f"+1555010{n:04d}" for n in range(119)] + [BLACKLISTED])
    event = api_event("GET", recipients_path(message_id), query={"status": "blacklisted"})
    # 5 s left: less than one more TMS call's timeouts (3.05 + 5 s) and the margin.
    code, _, body = invoke(status_api, event, timeout=5)
    assert (code, body["recipients"]) == (200, [])
    assert list_requests(govdelivery_sim, message_id) == 1
    code, _, body = get(status_api, recipients_path(message_id), status="blacklisted", cursor=body["nextCursor"])
    assert [r["providerStatus"] for r in body["recipients"]] == ["blacklisted"]


def test_govdelivery_a_cursor_is_bound_to_its_message_and_filter(
    status_api: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    message_id = finished(govdelivery_sim, tms_recipients(60))
    other_id = finished(govdelivery_sim, tms_recipients(60))
    cursor = get(status_api, recipients_path(message_id))[2]["nextCursor"]
    assert cursor is not None
    for path, query in [
        (recipients_path(other_id), {"cursor": cursor}),
        (recipients_path(message_id), {"cursor": cursor, "status": "failed"}),
        (recipients_path(message_id), {"cursor": "not-a-cursor"}),
        (recipients_path(message_id), {"cursor": cursor[:-2]}),
    ]:
        code, _, body = get(status_api, path, **query)
        assert (code, body["error"]["code"], body["error"]["target"]) == (400, "BadRequest", "cursor"), query


@pytest.mark.parametrize(
    ("path", "query", "code", "error"),
    [
        (recipients_path("d8e296bb-97c4-4495-b98f-1e32e0b11628", "comapi"), {}, 404, "RecipientsNotSupported"),
        (recipients_path("f9eea82a-ce63-4dfa-ae8e-09b891f446cc", "wunderkind"), {}, 404, "RecipientsNotSupported"),
        (recipients_path("165532", "acme"), {}, 404, "ProviderNotFound"),
        (recipients_path("999999"), {}, 404, "MessageNotFound"),
        (recipients_path("165532"), {"page": "2"}, 400, "BadRequest"),
        (recipients_path("165532"), {"status": "delivered"}, 422, "ValidationError"),
        (recipients_path("165532"), {"cursor": ""}, 422, "ValidationError"),
    ],
)
def test_govdelivery_recipients_refusals(
    status_api: Any, govdelivery_sim: GovdeliverySimulator, path: str, query: dict[str, str], code: int, error: str
) -> None:
    answered, _, body = get(status_api, path, **query)
    assert (answered, body["error"]["code"]) == (code, error)
    if error == "RecipientsNotSupported":
        assert body["error"]["target"] == "provider"
    assert table_items() == []


@pytest.mark.parametrize(
    ("fault", "code", "error"),
    [
        (Fault(status=502, remaining=1), 503, "ProviderUnavailable"),
        (Fault(status=429, retry_after=7, remaining=1), 503, "ProviderThrottled"),
        (Fault(status=401, remaining=1), 502, "ProviderRejectedRequest"),
        (Fault(status=200, body=b"<html>", remaining=1), 502, "ProviderBadResponse"),
    ],
)
def test_govdelivery_tms_failing_answers_as_every_provider_backed_route(
    status_api: Any, govdelivery_sim: GovdeliverySimulator, fault: Fault, code: int, error: str
) -> None:
    message_id = finished(govdelivery_sim, tms_recipients(3))
    govdelivery_sim.set_fault(fault)
    answered, headers, body = get(status_api, recipients_path(message_id))
    assert (answered, body["error"]["code"]) == (code, error)
    if code == 503:
        assert int(headers["Retry-After"]) >= 1
