"""The GovDelivery adapter's recipient lists against the TMS simulator over real HTTP, and what it
makes of TMS's pages, links and recipients whatever their shape."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import requests

from local.simulators.base import Fault
from local.simulators.govdelivery import FAILURE_MESSAGES, GovdeliverySimulator
from tests.support.adapters import govdelivery_adapter
from tests.support.payloads import tms_recipients
from textstatus.errors import ProviderBadResponseError, ProviderRejectedRequestError, ProviderUnavailableError
from textstatus.personal import masked_phone
from textstatus.providers.base import Recipient
from textstatus.providers.govdelivery_recipients import next_page
from textstatus.status import Reason, Status

# The simulators stamp their times with the real clock.
NOW = datetime.now(UTC)
TMS = "https://tms.govdelivery.com"


def finished(sim: GovdeliverySimulator, phones: list[str], building: int = 0) -> str:
    """A message to `phones` whose recipients have all reached their outcome; its id."""
    message = sim.add_sms(phones, silent=True, building=building)
    time.sleep(0.25)  # three steps of 0.05 s: every recipient is final
    return message.message_id


def test_govdelivery_lists_120_recipients_in_three_pages_of_50(govdelivery_sim: GovdeliverySimulator) -> None:
    phones = tms_recipients(120)
    message_id = finished(govdelivery_sim, phones)
    adapter = govdelivery_adapter(govdelivery_sim)
    pages, page = [], 1
    while True:
        got = adapter.recipients(message_id, None, page, NOW)
        assert got is not None
        assert got.retry_after is None
        pages.append(got)
        if got.next_page is None:
            break
        page = got.next_page
    assert [len(p.recipients) for p in pages] == [50, 50, 20]
    assert [p.next_page for p in pages] == [2, 3, None]
    everyone = [r for p in pages for r in p.recipients]
    assert len({r.recipient_id for r in everyone}) == 120
    # Masked as soon as it is read: only the last four digits are left.
    assert [r.phone for r in everyone] == ["*******" + phone[-4:] for phone in phones]
    failed = [r for r in everyone if r.provider_status == "failed"]
    assert len(failed) == 12
    assert {(r.status, r.reason) for r in failed} == {(Status.UNDELIVERED, Reason.CARRIER_ERROR)}
    assert {r.error_message for r in failed} == set(FAILURE_MESSAGES)
    sent = [r for r in everyone if r.provider_status == "sent"]
    assert len(sent) == 108
    assert all(r.status is Status.DELIVERED and r.error_message is None and r.completed_at for r in sent)


def test_govdelivery_failed_and_sent_are_tms_own_lists(govdelivery_sim: GovdeliverySimulator) -> None:
    message_id = finished(govdelivery_sim, tms_recipients(120))
    adapter = govdelivery_adapter(govdelivery_sim)
    failed = adapter.recipients(message_id, "failed", 1, NOW)
    assert failed is not None
    assert (len(failed.recipients), failed.next_page) == (12, None)
    assert all(r.error_message in FAILURE_MESSAGES for r in failed.recipients)
    sent = adapter.recipients(message_id, "sent", 3, NOW)
    assert sent is not None
    assert (len(sent.recipients), sent.next_page) == (8, None)  # 108 sent: 50, 50, 8
    paths = govdelivery_sim.request_counts
    assert paths[f"/messages/sms/{message_id}/recipients/failed"] == 1
    assert paths[f"/messages/sms/{message_id}/recipients/sent"] == 1


def test_govdelivery_a_list_being_built_is_202_until_it_is_ready(govdelivery_sim: GovdeliverySimulator) -> None:
    message_id = finished(govdelivery_sim, tms_recipients(3), building=1)
    adapter = govdelivery_adapter(govdelivery_sim)
    building = adapter.recipients(message_id, None, 1, NOW)
    # TMS gives no Retry-After with its 202: the default wait.
    assert building is not None
    assert (building.recipients, building.next_page, building.retry_after) == ([], None, 10.0)
    ready = adapter.recipients(message_id, None, 1, NOW)
    assert ready is not None
    assert (len(ready.recipients), ready.retry_after) == (3, None)


def test_govdelivery_recipients_of_an_unknown_message_and_tms_failing(govdelivery_sim: GovdeliverySimulator) -> None:
    adapter = govdelivery_adapter(govdelivery_sim)
    assert adapter.recipients("999999", None, 1, NOW) is None
    with pytest.raises(ProviderRejectedRequestError):
        govdelivery_adapter(govdelivery_sim, GOVDELIVERY_TOKEN="wrong").recipients("165532", None, 1, NOW)
    govdelivery_sim.set_fault(Fault(status=500, remaining=1))
    with pytest.raises(ProviderUnavailableError):
        adapter.recipients("165532", None, 1, NOW)


@pytest.mark.parametrize(
    "body",
    [
        b'{"recipients": []}',
        b"[1]",
        b'["+16515551000"]',
        b"<html>busy</html>",
        json.dumps([{}] * 501).encode(),
    ],
    ids=["object", "number", "string", "not-json", "too-many"],
)
def test_govdelivery_a_recipient_list_we_cannot_read_is_a_bad_response(
    govdelivery_sim: GovdeliverySimulator, body: bytes
) -> None:
    govdelivery_sim.set_fault(Fault(status=200, body=body, remaining=1))
    with pytest.raises(ProviderBadResponseError):
        govdelivery_adapter(govdelivery_sim).recipients("165532", None, 1, NOW)


def test_govdelivery_odd_recipient_values_are_read_defensively(govdelivery_sim: GovdeliverySimulator) -> None:
    odd = [
        {
            "status": "vaporized",
            "phone": 6515551000,
            "formatted_phone": ["+16515551000"],
            "error_message": {"text": "no"},
            "completed_at": "9999-12-31T00:00:00Z",
            "_links": {"self": "/messages/sms/165532/recipients/.."},
        },
        {"status": " FAILED ", "phone": "(651) 555-1000", "error_message": "x" * 5000, "id": 7, "_links": "self"},
        {"status": "sent\ud800", "formatted_phone": "+1 651", "completed_at": 20240101, "id": True},
    ]
    govdelivery_sim.set_fault(Fault(status=200, body=json.dumps(odd).encode(), remaining=1))
    got = govdelivery_adapter(govdelivery_sim).recipients("165532", None, 1, NOW)
    assert got is not None
    assert got.recipients == [
        Recipient(None, None, None, Reason.UNKNOWN, "vaporized", None, None),
        Recipient("7", "*******1000", Status.UNDELIVERED, Reason.CARRIER_ERROR, "FAILED", "x" * 500, None),
        # A number too short to show four digits of is masked whole; a lone surrogate is replaced.
        Recipient(None, "***********", None, Reason.UNKNOWN, "sent\ufffd", None, None),
    ]


def response_with(link: str | None) -> requests.Response:
    response = requests.Response()
    if link is not None:
        response.headers["Link"] = link
    return response


@pytest.mark.parametrize(
    ("link", "path", "page", "expected"),
    [
        (None, "/messages/sms/7/recipients", 1, None),
        ('</messages/sms/7/recipients?page=1>; rel="first",', "/messages/sms/7/recipients", 2, None),
        # As TMS's own server writes them: relative, each followed by a comma.
        (
            '</messages/sms/7/recipients?page=2>; rel="next",</messages/sms/7/recipients?page=3>; rel="last",',
            "/messages/sms/7/recipients",
            1,
            2,
        ),
        # As TMS's docs print them: a space inside the brackets.
        ('< /messages/sms/7/recipients/failed?page=4>; rel="next"', "/messages/sms/7/recipients/failed", 3, 4),
        (f'<{TMS}/messages/sms/7/recipients?page=2>; rel="next"', "/messages/sms/7/recipients", 1, 2),
        ('</messages/sms/7/recipients/page/2>; rel="next"', "/messages/sms/7/recipients", 1, 2),
    ],
)
def test_govdelivery_next_page_is_read_from_tms_link(
    link: str | None, path: str, page: int, expected: int | None
) -> None:
    assert next_page("govdelivery", response_with(link), TMS, path, page) == expected


@pytest.mark.parametrize(
    "link",
    [
        '<https://attacker.example/messages/sms/7/recipients?page=2>; rel="next"',
        '<http://tms.govdelivery.com/messages/sms/7/recipients?page=2>; rel="next"',
        '<//attacker.example/messages/sms/7/recipients?page=2>; rel="next"',
        '</messages/sms/8/recipients?page=2>; rel="next"',
        '</messages/sms/7/recipients/failed?page=2>; rel="next"',
        '</messages/sms/7/recipients?page=1>; rel="next"',
        '</messages/sms/7/recipients?page=2&page=3>; rel="next"',
        '</messages/sms/7/recipients?page=02>; rel="next"',
        '</messages/sms/7/recipients?page=-2>; rel="next"',
        '</messages/sms/7/recipients?page=99999999>; rel="next"',
        '</messages/sms/7/recipients?cursor=abc>; rel="next"',
        '</messages/sms/7/recipients/page/2?page=3>; rel="next"',
        '<http://[::1>; rel="next"',
    ],
)
def test_govdelivery_a_next_link_we_cannot_follow_is_a_bad_response(link: str) -> None:
    with pytest.raises(ProviderBadResponseError):
        next_page("govdelivery", response_with(link), TMS, "/messages/sms/7/recipients", 1)


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        (("+16515551000", "6515551000"), "*******1000"),
        ((None, "651-555-1234"), "*******1234"),
        (("", "6515551000"), "*******1000"),
        (("12345",), "***********"),
        ((None, None), None),
        (("unknown",), None),
    ],
)
def test_govdelivery_phone_numbers_are_masked_to_their_last_four_digits(
    numbers: tuple[str | None, ...], expected: str | None
) -> None:
    assert masked_phone(*numbers) == expected


def test_govdelivery_a_recipients_error_message_never_shows_a_whole_phone_number_or_an_email(
    govdelivery_sim: GovdeliverySimulator,
) -> None:
    listed = [
        {
            "status": "failed",
            "phone": "+12025550199",
            "error_message": "To number +1 202-555-0199 unreachable; contact jane@example.org",
            "_links": {"self": "/messages/sms/165532/recipients/31"},
        }
    ]
    govdelivery_sim.set_fault(Fault(status=200, body=json.dumps(listed).encode(), remaining=1))
    got = govdelivery_adapter(govdelivery_sim).recipients("165532", None, 1, NOW)
    assert got is not None
    (recipient,) = got.recipients
    assert (recipient.phone, recipient.error_message) == (
        "*******0199",
        "To number *******0199 unreachable; contact [email]",
    )
