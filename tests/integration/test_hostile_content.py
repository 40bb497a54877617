"""Authenticated requests with hostile content (found by a hostile pass): each ends in a defined
answer, never a 5xx, and never costs the valid parts of a batch."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from local.simulators.base import Fault
from local.simulators.govdelivery import GovdeliverySimulator
from local.simulators.wunderkind import WunderkindSimulator
from tests.conftest import TEST_ENV
from tests.support.adapters import govdelivery_adapter
from tests.support.api import comapi_post, events_of, get, register, status_of, wunderkind_post
from tests.support.aws import api_event, invoke
from tests.support.payloads import COMAPI_MESSAGE_ID, comapi_envelope, wunderkind_callback
from textstatus.clock import iso, provider_time, utcnow
from textstatus.errors import ProviderBadResponseError
from textstatus.providers.usajobs import detail_code
from textstatus.status import Status

SURROGATE = "\ud800"  # a lone UTF-16 surrogate: valid JSON ("\\ud800"), not encodable as UTF-8


def test_a_lone_surrogate_in_a_signed_batch_costs_nothing(callbacks: Any, status_api: Any) -> None:
    poison = comapi_envelope(
        "message.failed", "failed", "ev-poison", updated_on="2026-11-22T10:00:01Z", message_id="poisoned"
    )
    poison["payload"]["details"]["channelStatus"]["sms"]["details"] = {"desc": f"bad {SURROGATE} text"}
    unreadable_id = comapi_envelope(
        "message.failed", "failed", f"ev-{SURROGATE}", updated_on="2026-11-22T10:00:01Z", message_id="unreadable-id"
    )
    batch = [
        comapi_envelope(
            "message.delivered", "delivered", "ev-a", updated_on="2026-11-22T10:00:01Z", message_id="before-poison"
        ),
        poison,
        unreadable_id,
        comapi_envelope(
            "message.delivered", "delivered", "ev-b", updated_on="2026-11-22T10:00:01Z", message_id="after-poison"
        ),
    ]
    # The surrogate in a detail is stored as U+FFFD; an event id that is not text is no event id.
    assert comapi_post(callbacks, batch) == (200, {"accepted": 3, "duplicates": 0, "ignored": 1})
    for message_id in ("before-poison", "poisoned", "after-poison"):
        assert get(status_api, f"/v1/messages/comapi/{message_id}")[0] == 200
    assert get(status_api, "/v1/messages/comapi/poisoned")[2]["providerDetail"] == "desc=bad \ufffd text"
    # The replay is three duplicates, not a 5xx that Comapi would retry for a day.
    assert comapi_post(callbacks, batch) == (200, {"accepted": 0, "duplicates": 3, "ignored": 1})


def test_a_lone_surrogate_in_a_send_response_is_stored_replaced(status_api: Any) -> None:
    send_response = {"messageId": "surrogate-1", "status": "failed", "statusDetails": {"reason": SURROGATE}}
    code, answer = register(status_api, {"provider": "comapi", "sendResponse": send_response})
    assert code == 201, answer
    assert answer["messages"][0]["providerDetail"] == "reason=\ufffd"


def test_an_unreadable_number_in_one_element_does_not_sink_the_batch(callbacks: Any, status_api: Any) -> None:
    good = json.dumps(
        comapi_envelope(
            "message.sent", "sent", "ev-good", updated_on="2026-11-22T10:00:01Z", message_id="next-to-a-huge-number"
        )
    )
    raw = f'[{good}, {{"eventId": "ev-x", "name": "message.sent", "x": {"9" * 5000}}}]'.encode()
    code, answer = comapi_post(callbacks, raw)
    assert (code, answer) == (200, {"accepted": 1, "duplicates": 0, "ignored": 1})
    assert get(status_api, "/v1/messages/comapi/next-to-a-huge-number")[2]["status"] == "sent"


def test_later_reports_of_the_same_status_are_not_changes(callbacks: Any, status_api: Any) -> None:
    later = [iso(utcnow() - timedelta(seconds=10 - n)) for n in range(4)]
    for number, moment in enumerate(later):
        assert (
            comapi_post(
                callbacks, comapi_envelope("message.delivered", "delivered", f"dup-{number}", updated_on=moment)
            )[0]
            == 200
        )
    _, _, status = get(status_api, f"/v1/messages/comapi/{COMAPI_MESSAGE_ID}")
    assert (status["status"], status["version"], status["providerEventAt"]) == ("delivered", 1, later[-1])
    _, _, history = get(status_api, f"/v1/messages/comapi/{COMAPI_MESSAGE_ID}/events")
    assert sum(e["changedStatus"] for e in history["events"]) == 1
    # The same through Wunderkind's words, however they are spaced or cased.
    for word in ("DELIVERED", "DELIVERED\n", " delivered "):
        assert wunderkind_post(callbacks, wunderkind_callback(word, "wk-same"))[0] == 200
    assert get(status_api, "/v1/messages/wunderkind/wk-same")[2]["version"] == 1


def test_a_batch_counts_the_same_changes_in_any_order(callbacks: Any, status_api: Any) -> None:
    events = [
        comapi_envelope("message.sent", "sent", "o-sent", updated_on="2026-11-22T10:00:00Z"),
        comapi_envelope("message.delivered", "delivered", "o-delivered", updated_on="2026-11-22T10:00:01Z"),
        comapi_envelope("message.read", "read", "o-read", updated_on="2026-11-22T10:00:02Z"),
    ]
    assert comapi_post(callbacks, events)[0] == 200
    _, _, status = get(status_api, f"/v1/messages/comapi/{COMAPI_MESSAGE_ID}")
    # Greatest first: `read` lands and the rest are history.
    assert (status["providerStatus"], status["version"]) == ("read", 1)


def test_a_refresh_the_provider_cannot_answer_still_says_when_it_asked(
    status_api: Any, wunderkind_sim: WunderkindSimulator
) -> None:
    assert register(status_api, {"provider": "wunderkind", "messageId": "refresh-404"})[0] == 201
    wunderkind_sim.set_fault(Fault(status=404, body=b'{"code": 404, "message": "not found"}'))
    code, _, status = get(status_api, "/v1/messages/wunderkind/refresh-404", refresh="true")
    assert code == 200
    assert status["lastPolledAt"] is not None


def test_a_govdelivery_token_given_twice_is_refused(callbacks: Any) -> None:
    token = TEST_ENV["GOVDELIVERY_CALLBACK_TOKEN"]
    event = api_event(
        "POST",
        "/v1/callbacks/govdelivery",
        body="status=sent&message_url=/messages/sms/1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    event["multiValueQueryStringParameters"] = {"token": ["guess", token]}
    event["queryStringParameters"] = {"token": token}
    assert invoke(callbacks, event)[0] == 401


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-24T09:00:00 Z",
        "2026-11-24T09:00:00.Z",
        "2026-11-24T09:00:00+00:00:01",
        "2026-11-24T09:00:00Z\n",
        "\uff12\uff10\uff12\uff16-11-24T09:00:00Z",
        "2026-11-24 09:00:00Z",
    ],
)
def test_a_time_only_pythons_parser_accepts_is_not_a_provider_time(text: str) -> None:
    assert provider_time(text, utcnow()) is None


def test_well_formed_provider_times_are_used() -> None:
    now = utcnow()
    moment = now - timedelta(minutes=1)
    for text in (iso(moment), moment.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"), moment.strftime("%Y-%m-%dT%H:%M:%S")):
        parsed = provider_time(text, now)
        assert parsed is not None
        assert abs((parsed - moment).total_seconds()) < 1


def test_a_send_response_cannot_date_its_word_in_the_future(status_api: Any, callbacks: Any) -> None:
    ahead = iso(utcnow() + timedelta(hours=23))
    send_response = {"messageId": "future-1", "status": "failed", "_updatedOn": ahead}
    assert register(status_api, {"provider": "comapi", "sendResponse": send_response})[0] == 201
    later = iso(utcnow() + timedelta(minutes=1))
    expired = comapi_envelope("message.expired", "expired", "late-expired", message_id="future-1", updated_on=later)
    assert comapi_post(callbacks, expired)[0] == 200
    _, _, status = get(status_api, "/v1/messages/comapi/future-1")
    assert (status["providerStatus"], status["providerEventAt"]) == ("expired", later)


# The third pass -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "counts",
    [
        {"total": 1, "sent": "1"},
        {"total": "1", "sent": 1},
        {},
        {"total": 2, "sent": 3},
        {"total": 1, "sent": 1, "new": 1},
    ],
    ids=["count-as-text", "total-as-text", "no-counts", "more-sent-than-total", "more-buckets-than-total"],
)
def test_govdelivery_completed_with_counts_that_do_not_add_up_is_asked_again(
    govdelivery_sim: GovdeliverySimulator, counts: dict[str, Any]
) -> None:
    body = json.dumps({"status": "completed", "recipient_counts": counts, "id": 165532}).encode()
    govdelivery_sim.set_fault(Fault(status=200, body=body))
    with pytest.raises(ProviderBadResponseError, match="do not add up"):
        govdelivery_adapter(govdelivery_sim).fetch_status("165532", utcnow())


def test_govdelivery_counts_that_contradict_their_status_decide_nothing(govdelivery_sim: GovdeliverySimulator) -> None:
    counts = {"total": 2, "sending": 2, "inconclusive": 2}
    govdelivery_sim.set_fault(
        Fault(status=200, body=json.dumps({"status": "new", "recipient_counts": counts}).encode())
    )
    observation = govdelivery_adapter(govdelivery_sim).fetch_status("165532", utcnow())
    assert observation is not None
    assert (observation.status, observation.status.final) == (Status.ACCEPTED, False)  # type: ignore[union-attr]


def test_a_claim_is_never_credited_with_what_the_provider_later_says(
    status_api: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    message = govdelivery_sim.add_sms(["+15555550005"], silent=True)  # TMS: sending, and stays so
    claim = {
        "id": int(message.message_id),
        "status": "completed",
        "completed_at": "2026-11-24T09:00:00Z",
        "recipient_counts": {"total": 1, "new": 0, "sending": 0, "sent": 1, "failed": 0},
    }
    assert register(status_api, {"provider": "govdelivery", "sendResponse": claim})[0] == 201
    # Later TMS itself says exactly what the claim said.
    govdelivery_sim.set_fault(Fault(status=200, body=json.dumps(claim).encode()))
    _, _, status = get(status_api, f"/v1/messages/govdelivery/{message.message_id}", refresh="true")
    assert (status["status"], status["source"]) == ("delivered", "lookup")
    changed = [(e["source"], e["changedStatus"]) for e in events_of(status_api, "govdelivery", message.message_id)]
    assert ("lookup", True) in changed
    claims = [e for e in events_of(status_api, "govdelivery", message.message_id) if e["eventId"].count("claim:")]
    assert [c["changedStatus"] for c in claims] == [False]


def test_a_status_word_in_any_script_is_kept_not_refused(callbacks: Any, status_api: Any) -> None:
    code, answer = wunderkind_post(callbacks, wunderkind_callback("DEL\u0130VERED", message_id="unicode-word"))
    assert (code, answer["accepted"]) == (200, 1)
    status = status_of(status_api, "wunderkind", "unicode-word")
    assert (status["status"], status["reason"], status["providerStatus"]) == ("accepted", "unknown", "DEL\u0130VERED")


@pytest.mark.parametrize(
    ("detail", "code"),
    [("\uff14\uff10\uff10\uff17: x", None), ("4007.5", None), (" 4007: opted out", 4007), ("4003", 4003)],
)
def test_usajobs_codes_are_ascii_digits_before_a_colon(detail: str, code: int | None) -> None:
    assert detail_code(detail) == code
