"""Delivery records are evidence: through the real handlers, nothing valid is lost, no status is
wrong, history is never rewritten, and stored records stay readable."""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.gateway import LambdaContext
from local.simulators.govdelivery import GovdeliverySimulator
from local.simulators.wunderkind import WunderkindSimulator
from tests.support.api import comapi_post, get, govdelivery_post, register, wunderkind_post
from tests.support.aws import table_items
from tests.support.payloads import COMAPI_MESSAGE_ID as COMAPI_ID
from tests.support.payloads import WUNDERKIND_MESSAGE_ID as WUNDERKIND_ID
from tests.support.payloads import comapi_envelope, govdelivery_fields, wunderkind_callback
from textstatus import runtime
from textstatus.clock import iso, utcnow

SCHEDULE = json.loads((Path(__file__).parents[2] / "events" / "poller" / "schedule.json").read_text())


def raw_items(prefix: str = "") -> dict[tuple[str, str], dict[str, Any]]:
    return {(i["pk"]["S"], i["sk"]["S"]): i for i in table_items() if i["sk"]["S"].startswith(prefix)}


# 3, 15: a batch registration never rewrites history and never leaves an event without its status


def test_registering_a_batch_again_rewrites_no_event(status_api: Any) -> None:
    batch = [{"index": n, "messageId": f"batch-{n}"} for n in range(60)]
    assert register(status_api, {"provider": "comapi", "sendResponse": batch})[0] == 201
    before = raw_items()
    time.sleep(0.01)  # a rewrite would change receivedAt
    code, answer = register(status_api, {"provider": "comapi", "sendResponse": batch, "reference": "late-ref"})
    assert code == 201
    assert not any(m["new"] for m in answer["messages"])
    after = raw_items("EVENT#")
    assert after == {key: item for key, item in before.items() if key[1].startswith("EVENT#")}
    assert all(m["reference"] == "late-ref" for m in answer["messages"])  # adopted, as documented


def test_a_batch_failing_part_way_leaves_no_event_without_its_status(status_api: Any) -> None:
    client = runtime.store()._client
    transactions = []

    def second_transaction_throttled(**_: Any) -> None:
        transactions.append(1)
        if len(transactions) == 2:
            error = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
            raise ClientError(error, "TransactWriteItems")  # type: ignore[arg-type]

    client.meta.events.register("before-call.dynamodb.TransactWriteItems", second_transaction_throttled)
    batch = [{"index": n, "messageId": f"part-{n}"} for n in range(100)]
    code, answer = register(status_api, {"provider": "comapi", "sendResponse": batch})
    assert (code, answer["error"]["code"]) == (503, "ServiceUnavailable")
    pks_with_events = {pk for pk, sk in raw_items("EVENT#")}
    pks_with_status = {pk for pk, sk in raw_items("STATUS")}
    assert pks_with_events == pks_with_status
    assert len(pks_with_status) == 50  # the first transaction landed whole
    code, answer = register(status_api, {"provider": "comapi", "sendResponse": batch})  # the client retries
    assert code == 201
    assert sum(m["new"] for m in answer["messages"]) == 50
    assert len(raw_items("STATUS")) == len(raw_items("EVENT#")) == 100


# 5: times render fixed width, and a year the service cannot use never wins by sorting


def test_a_year_999_event_time_does_not_outrank_a_real_2026_time(callbacks: Any, status_api: Any) -> None:
    assert iso(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00.000000Z"
    code, _ = comapi_post(
        callbacks, comapi_envelope("message.expired", "expired", "e-old", updated_on="0999-01-01T00:00:00Z")
    )
    assert code == 200
    later = iso(utcnow() + timedelta(minutes=1))
    assert comapi_post(callbacks, comapi_envelope("message.failed", "failed", "e-failed", updated_on=later))[0] == 200
    code, _, status = get(status_api, f"/v1/messages/comapi/{COMAPI_ID}")
    assert (code, status["providerStatus"], status["providerEventAt"]) == (200, "failed", later)


# 7, 8: registration applies its word by the rule; changedStatus is what was applied


def test_a_send_responses_failed_replaces_a_callbacks_sent_and_the_history_says_so(
    callbacks: Any, status_api: Any
) -> None:
    assert (
        comapi_post(callbacks, comapi_envelope("message.sent", "sent", "e-sent", updated_on="2026-11-22T10:00:01Z"))[0]
        == 200
    )
    send_response = {"messageId": COMAPI_ID, "status": "failed", "_updatedOn": "2026-11-22T10:00:00Z"}
    code, answer = register(status_api, {"provider": "comapi", "sendResponse": send_response, "reference": "r-7"})
    assert code == 201
    (message,) = answer["messages"]
    assert (message["new"], message["status"], message["source"], message["reference"]) == (
        False,
        "failed",
        "registration",
        "r-7",
    )
    code, _, history = get(status_api, f"/v1/messages/comapi/{COMAPI_ID}/events")
    assert [(e["source"], e["providerStatus"], e["changedStatus"]) for e in history["events"]] == [
        ("registration", "failed", True),
        ("callback", "sent", True),
    ]


def test_changed_status_follows_what_was_applied_not_the_event_id_order(callbacks: Any, status_api: Any) -> None:
    # One batch, one received time: `delivered` arrives first and wins; `sent` (a later time, a
    # lower rank) changes nothing, although its id sorts first.
    batch = [
        comapi_envelope("message.delivered", "delivered", "evt-b", updated_on="2026-11-22T10:00:01Z"),
        comapi_envelope("message.sent", "sent", "evt-a", updated_on="2026-11-22T10:00:02Z"),
    ]
    assert comapi_post(callbacks, batch) == (200, {"accepted": 2, "duplicates": 0, "ignored": 0})
    _, _, history = get(status_api, f"/v1/messages/comapi/{COMAPI_ID}/events")
    assert {e["providerStatus"]: e["changedStatus"] for e in history["events"]} == {"delivered": True, "sent": False}


# 9: an unconfirmed callback claim stays in the history only


def test_an_unconfirmed_govdelivery_claim_changes_nothing_but_the_history(
    callbacks: Any, status_api: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    message = govdelivery_sim.add_sms(["+15555550005"], silent=True)  # TMS: sending, and stays so
    time.sleep(0.3)
    assert (
        govdelivery_post(
            callbacks, govdelivery_fields(govdelivery_sim.url, message.message_id, "sending", error_message="")
        )[0]
        == 200
    )
    _, _, before = get(status_api, f"/v1/messages/govdelivery/{message.message_id}")
    assert (
        govdelivery_post(
            callbacks,
            govdelivery_fields(
                govdelivery_sim.url, message.message_id, "failed", error_message="Carrier rejected: spam"
            ),
        )[0]
        == 200
    )
    _, _, after = get(status_api, f"/v1/messages/govdelivery/{message.message_id}")
    assert after == before
    assert "spam" not in json.dumps(after)
    _, _, history = get(status_api, f"/v1/messages/govdelivery/{message.message_id}/events")
    claims = [e for e in history["events"] if "spam" in (e["providerDetail"] or "")]
    assert [(e["providerStatus"], e["changedStatus"]) for e in claims] == [("failed", False)]


def test_a_govdelivery_send_response_claiming_delivery_is_confirmed_with_tms(
    status_api: Any, govdelivery_sim: GovdeliverySimulator
) -> None:
    message = govdelivery_sim.add_sms(["+15555550005"], silent=True)  # TMS: sending, and stays so
    time.sleep(0.3)
    claim = {
        "status": "completed",
        "_links": {"self": f"/messages/sms/{message.message_id}"},
        "recipient_counts": {"total": 1, "new": 0, "sending": 0, "sent": 1, "failed": 0},
        "completed_at": "2026-11-22T10:00:05Z",
    }
    code, answer = register(status_api, {"provider": "govdelivery", "sendResponse": claim})
    assert code == 201
    (tracked,) = answer["messages"]
    assert (tracked["final"], tracked["status"]) == (False, "sending")


# 10: never lost from sight; a refresh says when it asked


def test_an_unknown_word_for_an_unregistered_message_tracks_it(callbacks: Any, status_api: Any) -> None:
    assert wunderkind_post(callbacks, wunderkind_callback("QUEUED_AT_CARRIER", WUNDERKIND_ID)) == (
        200,
        {"accepted": 1, "duplicates": 0, "ignored": 0},
    )
    code, _, status = get(status_api, f"/v1/messages/wunderkind/{WUNDERKIND_ID}")
    assert code == 200
    assert (status["status"], status["reason"], status["providerStatus"], status["final"]) == (
        "accepted",
        "unknown",
        "QUEUED_AT_CARRIER",
        False,
    )
    assert status["nextPollAt"] is not None  # the poller asks until a word we know arrives
    assert wunderkind_post(callbacks, wunderkind_callback("DELIVERED", WUNDERKIND_ID))[0] == 200
    _, _, status = get(status_api, f"/v1/messages/wunderkind/{WUNDERKIND_ID}")
    assert (status["status"], status["version"]) == ("delivered", 2)


def test_a_refresh_that_changes_nothing_records_when_the_provider_was_asked(
    status_api: Any, wunderkind_sim: WunderkindSimulator
) -> None:
    message_id = wunderkind_sim.add_message([("SENDING", 0.0)], silent=True).message_id
    assert get(status_api, f"/v1/messages/wunderkind/{message_id}")[0] == 200
    code, _, status = get(status_api, f"/v1/messages/wunderkind/{message_id}", refresh="true")
    assert code == 200
    assert status["lastPolledAt"] is not None
    assert status["version"] == 1


# 16: records of a provider this deployment no longer uses stay readable


def test_a_provider_no_longer_configured_keeps_its_records_readable(
    callbacks: Any, status_api: Any, env: pytest.MonkeyPatch
) -> None:
    assert register(status_api, {"provider": "wunderkind", "messageId": WUNDERKIND_ID, "reference": "r-16"})[0] == 201
    for name in [n for n in os.environ if n.startswith("WUNDERKIND_")]:
        env.delenv(name)
    runtime.reset()
    assert get(status_api, f"/v1/messages/wunderkind/{WUNDERKIND_ID}")[2]["status"] == "accepted"
    assert get(status_api, f"/v1/messages/wunderkind/{WUNDERKIND_ID}/events")[0] == 200
    assert [m["messageId"] for m in get(status_api, "/v1/messages", reference="r-16")[2]["messages"]] == [WUNDERKIND_ID]
    code, _, body = get(status_api, f"/v1/messages/wunderkind/{WUNDERKIND_ID}", refresh="true")
    assert (code, body["error"]["code"]) == (404, "ProviderNotConfigured")
    assert get(status_api, "/v1/messages/acme/x-1")[2]["error"]["code"] == "ProviderNotFound"


# 17: retention shorter than tracking is refused; a tracked message's TTL moves with it


def test_retention_shorter_than_the_tracking_deadline_is_refused_at_error_level(
    status_api: Any, env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    env.setenv("RETENTION_DAYS", "2")
    env.setenv("TRACKING_DEADLINE_HOURS", "72")
    runtime.reset()
    with caplog.at_level(logging.ERROR):
        code, body = register(status_api, {"provider": "wunderkind", "messageId": WUNDERKIND_ID})
    assert (code, body["error"]["code"]) == (500, "InternalError")
    assert "RETENTION_DAYS" not in json.dumps(body)  # settings are for the logs
    assert any(r.levelno == logging.ERROR and "settings refused" in r.getMessage() for r in caplog.records)
    assert table_items() == []


def test_every_item_of_a_tracked_message_outlives_the_tracking_deadline(
    status_api: Any, wunderkind_sim: WunderkindSimulator, env: pytest.MonkeyPatch
) -> None:
    env.setenv("RETENTION_DAYS", "3")
    env.setenv("TRACKING_DEADLINE_HOURS", "72")
    env.setenv("POLL_INITIAL_DELAY_SECONDS", "1")
    env.setenv("POLL_MAX_BACKOFF_SECONDS", "1")
    runtime.reset()
    message_id = wunderkind_sim.add_message([("SENDING", 0.0)], silent=True).message_id
    assert register(status_api, {"provider": "wunderkind", "messageId": message_id})[0] == 201
    created = utcnow()
    time.sleep(1.1)
    from functions.poller import app as poller

    poller.lambda_handler(SCHEDULE, LambdaContext("PollerFunction", 50))
    deadline = created + timedelta(hours=72)
    items = table_items()
    assert len(items) == 3  # the status, the registration event, the poll's event
    for item in items:
        expires = int(item["expiresAt"]["N"])
        if item["sk"]["S"] == "STATUS":
            # Alive at least until the deadline, when the poller makes it final (and it is then
            # kept the retention after that); each poll moves it on.
            assert expires >= int(deadline.timestamp()) - 5
        else:
            # Events: as long as the message can last have become final, plus the retention.
            assert expires >= int((deadline + timedelta(days=3)).timestamp()) - 5


# 4: one message's unexpected failure never fails the run


def test_a_secret_that_cannot_be_read_fails_its_messages_not_the_run(
    status_api: Any, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("POLL_INITIAL_DELAY_SECONDS", "1")
    env.setenv("POLL_MAX_BACKOFF_SECONDS", "1")
    runtime.reset()
    for n in range(3):
        assert register(status_api, {"provider": "wunderkind", "messageId": f"ssm-{n}"})[0] == 201
    # On AWS the secret comes from SSM; here the parameter does not exist.
    env.delenv("WUNDERKIND_CLIENT_ID")
    env.setenv("WUNDERKIND_CLIENT_ID_PARAMETER", "/textstatus/wunderkind/missing")
    runtime.reset()
    time.sleep(1.1)
    from functions.poller import app as poller

    before = {i["pk"]["S"]: i["nextPollAt"]["S"] for i in table_items() if i["sk"]["S"] == "STATUS"}
    result = poller.lambda_handler(SCHEDULE, LambdaContext("PollerFunction", 50))
    assert (result["due"], result["failed"], result["errors"]) == (3, 3, 3)
    after = {i["pk"]["S"]: i["nextPollAt"]["S"] for i in table_items() if i["sk"]["S"] == "STATUS"}
    assert all(after[pk] > before[pk] for pk in before)  # each one backed off
    assert '"PollErrors":[3.0]' in capsys.readouterr().out  # the run's metrics were published


def test_ssm_is_really_asked(aws: None) -> None:
    # The test above relies on the moto SSM answering "not found" for a parameter nobody created.
    with pytest.raises(ClientError):
        boto3.client("ssm").get_parameter(Name="/textstatus/wunderkind/missing", WithDecryption=True)


# 2: one bad element never sinks the rest of a batch (a send response's, as a webhook's)


def test_a_batch_send_response_with_a_bad_element_tracks_the_others_and_says_which(status_api: Any) -> None:
    batch = [
        {"index": 0, "messageId": "good-0"},
        {"index": 1, "messageId": "../etc/passwd"},
        "not an object",
        {"index": 3, "messageId": "good-3"},
    ]
    code, answer = register(status_api, {"provider": "comapi", "sendResponse": batch})
    assert code == 201, answer
    assert [m["messageId"] for m in answer["messages"]] == ["good-0", "good-3"]
    assert len(answer["ignored"]) == 2
    assert all(reason.startswith(("item 1", "item 2")) for reason in answer["ignored"])
    assert len(raw_items("STATUS")) == 2


def test_the_events_of_a_batch_are_taken_in_concurrently_and_all_land(
    callbacks: Any, status_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One after another, 1,000 events (two DynamoDB requests each) outlast Comapi's 10 seconds
    # on AWS, and a batch retried whole never gets faster: it would be lost after 24 hours.
    import threading

    from textstatus.tracking import Tracker

    threads: set[str] = set()
    ingest = Tracker.ingest

    def noting_thread(self: Tracker, *args: Any, **kwargs: Any) -> Any:
        threads.add(threading.current_thread().name)
        time.sleep(0.01)
        return ingest(self, *args, **kwargs)

    monkeypatch.setattr(Tracker, "ingest", noting_thread)
    batch = [
        comapi_envelope(
            "message.delivered", "delivered", f"c-{n}", updated_on="2026-11-22T10:00:01Z", message_id=f"conc-{n}"
        )
        for n in range(40)
    ]
    assert comapi_post(callbacks, batch) == (200, {"accepted": 40, "duplicates": 0, "ignored": 0})
    assert len(threads) > 1
    assert len(raw_items("STATUS")) == 40
