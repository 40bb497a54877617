"""Notifications through the real handlers on moto: callbacks change statuses, the table's stream
feeds the notifier (local.streams, as Lambda's event source mapping does, with the template's
filter), the FIFO queue feeds the delivery function, and a receiver on a loopback port checks
what arrives. Signatures are verified by the `standardwebhooks` package, not by our signer."""

from __future__ import annotations

import importlib
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from standardwebhooks import Webhook

from local import streams, template
from local.gateway import LambdaContext
from tests.support.aws import api_event, invoke
from tests.support.payloads import WUNDERKIND_CALLBACK_HEADERS as CALLBACK_HEADERS
from tests.support.waiting import wait_for
from tests.webhook_receiver import Receiver
from textstatus import runtime
from textstatus.notifications import wiring
from textstatus.notifications.changes import change_of
from textstatus.subscriptions import Subscription, SubscriptionFilter, SubscriptionStore

FUNCTIONS = template.functions()


def call(function: template.FunctionDef, event: dict[str, Any]) -> Any:
    """A function's handler, as Lambda invokes it (the session wraps it for the IAM check)."""
    module = importlib.import_module(function.module)
    return getattr(module, function.handler)(event, LambdaContext(function.logical_id, function.timeout_seconds))


@dataclass
class Rig:
    refs: dict[str, str]
    store: SubscriptionStore
    stop: threading.Event
    sources: streams.EventSources | None = None
    secret: str = ""

    def start(self, invoker: Callable[[template.FunctionDef, dict[str, Any]], Any] = call) -> None:
        self.sources = streams.EventSources(os.environ["TABLE_NAME"], self.refs, invoker, self.stop, queue_workers=2)
        pumps = self.sources.start()
        for pump in pumps:
            if isinstance(pump, streams.StreamPump):
                pump.retry_seconds = 0.05

    def subscribe(
        self, receiver: Receiver, subscription_filter: SubscriptionFilter | None = None, enabled: bool = True
    ) -> Subscription:
        """A subscription through the real store; its secret is kept as `secret`."""
        subscription, self.secret = self.store.create(receiver.url, None, subscription_filter or SubscriptionFilter())
        if not enabled:
            self.store.disable(subscription.id, "test")
        return subscription

    def events_queue(self) -> str:
        """A rule on the bus routing every change to a queue."""
        sqs, events = boto3.client("sqs"), boto3.client("events")
        url = sqs.create_queue(QueueName="textstatus-test-changes")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = self.refs["NotificationsBus"]
        events.put_rule(Name="all-changes", EventBusName=bus, EventPattern=json.dumps({"source": ["textstatus"]}))
        events.put_targets(Rule="all-changes", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
        return str(url)


@pytest.fixture
def rig(aws: None, env: pytest.MonkeyPatch) -> Iterator[Rig]:
    refs = streams.create_resources("textstatus-test")
    env.setenv("EVENT_BUS_NAME", refs["NotificationsBus"])
    env.setenv("DELIVERY_QUEUE_URL", refs["DeliveryQueue"])
    env.setenv("DELIVERY_DLQ_URL", refs["DeliveryDeadLetterQueue"])
    env.setenv("WEBHOOK_BACKOFF_BASE_SECONDS", "1")
    env.setenv("WEBHOOK_BACKOFF_CAP_SECONDS", "1")
    env.setenv("WEBHOOK_READ_TIMEOUT_SECONDS", "0.5")
    env.setenv("WEBHOOK_CONNECT_TIMEOUT_SECONDS", "0.5")
    env.setenv("POWERTOOLS_LOG_LEVEL", "CRITICAL")
    env.setenv("WEBHOOKS_ALLOW_LOOPBACK", "true")
    runtime.reset()
    wiring.reset()
    rig = Rig(refs, runtime.subscriptions(), threading.Event())
    yield rig
    rig.stop.set()
    if rig.sources:
        rig.sources.join()
    wiring.reset()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def callback(message_id: str, status: str) -> None:
    body = {"messageID": message_id, "status": status, "phone": "+15551230000"}
    from functions.callbacks import app

    event = api_event("POST", "/v1/callbacks/wunderkind", body=body, headers=CALLBACK_HEADERS)
    assert invoke(app, event)[0] == 200


def current(message_id: str) -> dict[str, Any]:
    from functions.status_api import app

    status, _, body = invoke(app, api_event("GET", f"/v1/messages/wunderkind/{message_id}"))
    assert status == 200
    result: dict[str, Any] = body
    return result


def message_id(number: int) -> str:
    return f"0b5e1d8c-0000-4000-8000-{number:012d}"


def verified(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """Every accepted webhook's payload, verified by standardwebhooks."""
    return [Webhook(secret).verify(r.body, r.headers) for r in receiver.accepted()]


def by_message(payloads: list[dict[str, Any]]) -> dict[str, list[int]]:
    sequences: dict[str, list[int]] = {}
    for payload in payloads:
        sequences.setdefault(payload["data"]["messageId"], []).append(payload["data"]["sequence"])
    return sequences


# -- signatures and payload ------------------------------------------------------------------------


def test_a_change_is_delivered_signed_with_every_secret_during_a_rotation(rig: Rig, receiver: Receiver) -> None:
    subscription = rig.subscribe(receiver)
    old_secret = rig.secret
    new_secret = rig.store.rotate_secret(subscription.id, datetime.now(UTC))
    assert new_secret is not None
    rig.start()
    callback(message_id(1), "SENDING")
    callback(message_id(1), "DELIVERED")
    wait_for(lambda: len(receiver.accepted()) == 2, 20)
    for secret in (new_secret, old_secret):
        payloads = verified(receiver, secret)
        assert [p["data"]["sequence"] for p in payloads] == [1, 2]
    first, second = receiver.accepted()
    assert first.headers["content-type"] == "application/json"
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    assert first.headers["webhook-id"] != second.headers["webhook-id"]
    assert abs(int(second.headers["webhook-timestamp"]) - time.time()) < 30
    payload = second.payload
    assert payload["type"] == "message.status.changed"
    assert payload["timestamp"] == payload["data"]["updatedAt"]
    state = current(message_id(1))
    assert payload["data"] == {**state, "previousStatus": "sending", "sequence": 2}
    assert first.payload["data"]["previousStatus"] is None
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 32).verify(second.body, second.headers)


def test_only_matching_enabled_subscriptions_receive_and_writes_that_change_nothing_are_ignored(
    rig: Rig, receiver: Receiver
) -> None:
    other = Receiver().start()
    try:
        rig.subscribe(other, enabled=False)
        rig.subscribe(receiver, SubscriptionFilter(final_only=True))
        rig.start()
        callback(message_id(2), "SENDING")
        callback(message_id(2), "SENDING")  # the same status again: no change
        callback(message_id(2), "DELIVERED")
        callback(message_id(2), "DELIVERED")
        wait_for(lambda: receiver.accepted(), 20)
        time.sleep(0.5)
        assert [p["data"]["status"] for p in verified(receiver, rig.secret)] == ["delivered"]
        assert other.received == []
    finally:
        other.stop()


# -- order -----------------------------------------------------------------------------------------


def test_shuffled_duplicated_concurrent_callbacks_reach_the_receiver_in_order_without_gaps(
    rig: Rig, receiver: Receiver
) -> None:
    rig.subscribe(receiver)
    rig.start()
    words = ["PENDING_TO_SEND", "SENDING", "DELIVERED", "FAILED_TO_DELIVERY"]
    calls = [(message_id(100 + n), word) for n in range(25) for word in words[: 2 + n % 3] for _ in range(2)]
    random.Random(7).shuffle(calls)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda c: callback(*c), calls))
    finals = {mid: current(mid) for mid in {mid for mid, _ in calls}}
    expected = sum(state["version"] for state in finals.values())
    wait_for(lambda: len(receiver.accepted()) >= expected, 60)
    payloads = verified(receiver, rig.secret)
    sequences = by_message(payloads)
    assert set(sequences) == set(finals)
    for mid, state in finals.items():
        assert sequences[mid] == list(range(1, state["version"] + 1)), mid
        last = [p for p in payloads if p["data"]["messageId"] == mid][-1]["data"]
        assert (last["status"], last["version"]) == (state["status"], state["version"])
    assert len({r.headers["webhook-id"] for r in receiver.accepted()}) == expected


# -- retries, 410, dead letters ---------------------------------------------------------------------


def test_a_receiver_failing_then_timing_out_then_answering_gets_every_change_in_order(
    rig: Rig, receiver: Receiver
) -> None:
    answers: dict[int, float] = {1: 500, 2: -1.0}

    def script(number: int, payload: Any) -> int | float:
        return answers.get(number, 200)

    receiver.script = script
    subscription = rig.subscribe(receiver)
    rig.start()
    for word in ("PENDING_TO_SEND", "SENDING", "DELIVERED"):
        callback(message_id(3), word)
    wait_for(lambda: len(receiver.accepted()) >= 3, 30)
    assert [p["data"]["sequence"] for p in verified(receiver, rig.secret)] == [1, 2, 3]
    attempts = rig.store.deliveries(subscription.id)
    first = sorted((a for a in attempts if a.sequence == 1), key=lambda a: a.attempt)
    assert [(a.outcome, a.status_code, a.error) for a in first] == [
        ("retrying", 500, "HTTP 500"),
        ("retrying", None, "timeout"),
        ("delivered", 200, None),
    ]
    # The group waited: no later change was attempted before the first was delivered.
    order = [r.payload["data"]["sequence"] for r in receiver.received]
    assert order == sorted(order)


def test_410_gone_disables_the_subscription(rig: Rig, receiver: Receiver) -> None:
    receiver.script = lambda number, payload: 410
    subscription = rig.subscribe(receiver)
    rig.start()
    callback(message_id(4), "SENDING")
    wait_for(lambda: (found := rig.store.get(subscription.id)) is not None and not found.enabled, 20)
    attempts = wait_for(lambda: rig.store.deliveries(subscription.id), 20)
    assert [(a.outcome, a.status_code) for a in attempts] == [("disabled", 410)]
    callback(message_id(4), "DELIVERED")
    time.sleep(0.5)
    assert len(receiver.received) == 1


def test_a_delivery_failing_for_a_day_is_dead_lettered_and_recorded(rig: Rig, receiver: Receiver) -> None:
    receiver.script = lambda number, payload: 503
    subscription = rig.subscribe(receiver)
    callback(message_id(5), "SENDING")
    sqs = boto3.client("sqs")
    # What the notifier queued, as the delivery function receives it.
    records = list(streams.read_stream(os.environ["TABLE_NAME"]))
    assert call(FUNCTIONS["NotifierFunction"], {"Records": records}) == {"batchItemFailures": []}
    (message,) = sqs.receive_message(QueueUrl=rig.refs["DeliveryQueue"], AttributeNames=["All"])["Messages"]
    record = streams.sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:delivery.fifo")
    day_ago = datetime.now(UTC) - timedelta(hours=24, seconds=1)
    record["attributes"]["ApproximateFirstReceiveTimestamp"] = str(int(day_ago.timestamp() * 1000))
    record["attributes"]["ApproximateReceiveCount"] = "40"
    assert call(FUNCTIONS["DeliveryFunction"], {"Records": [record]}) == {"batchItemFailures": []}
    (dead,) = sqs.receive_message(QueueUrl=rig.refs["DeliveryDeadLetterQueue"])["Messages"]
    assert json.loads(dead["Body"])["webhookId"] == receiver.received[0].headers["webhook-id"]
    (attempt,) = rig.store.deliveries(subscription.id)
    assert (attempt.outcome, attempt.status_code, attempt.attempt) == ("dead-lettered", 503, 40)


def test_a_gone_subscription_is_dropped_and_recorded(rig: Rig, receiver: Receiver) -> None:
    subscription = rig.subscribe(receiver)
    callback(message_id(6), "SENDING")
    records = list(streams.read_stream(os.environ["TABLE_NAME"]))
    call(FUNCTIONS["NotifierFunction"], {"Records": records})
    rig.store.disable(subscription.id, "test")
    (message,) = boto3.client("sqs").receive_message(QueueUrl=rig.refs["DeliveryQueue"], AttributeNames=["All"])[
        "Messages"
    ]
    record = streams.sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:delivery.fifo")
    assert call(FUNCTIONS["DeliveryFunction"], {"Records": [record]}) == {"batchItemFailures": []}
    assert [a.outcome for a in rig.store.deliveries(subscription.id)] == ["dropped"]
    assert receiver.received == []


# -- EventBridge, and nothing lost -----------------------------------------------------------------


def drain(queue_url: str, expected: int, seconds: float = 30) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while len(found) < expected and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        time.sleep(0.02)
    time.sleep(0.3)
    for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        found.append(json.loads(message["Body"]))
    return found


def test_every_change_is_an_eventbridge_event_a_rule_can_route(rig: Rig) -> None:
    queue = rig.events_queue()
    rig.start()
    for word in ("SENDING", "DELIVERED"):
        callback(message_id(7), word)
    events = drain(queue, 2)
    assert [(e["source"], e["detail-type"]) for e in events] == [("textstatus", "Message Status Changed")] * 2
    details = [e["detail"] for e in events]
    assert [(d["sequence"], d["previousStatus"], d["status"]) for d in details] == [
        (1, None, "sending"),
        (2, "sending", "delivered"),
    ]
    assert details[1] == {**current(message_id(7)), "previousStatus": "sending", "sequence": 2}


def test_the_notifier_failing_mid_batch_then_recovering_publishes_every_change_once_in_order(
    rig: Rig, env: pytest.MonkeyPatch
) -> None:
    queue = rig.events_queue()
    events = wiring.events()
    real_put = events.put_events
    calls = {"n": 0}

    def flaky(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] in (3, 4, 5, 9):
            raise RuntimeError("EventBridge unavailable")
        return real_put(**kwargs)

    env.setattr(events, "put_events", flaky)
    words = ["SENDING", "DELIVERED"]
    for n in range(6):
        for word in words:
            callback(message_id(200 + n), word)
    rig.start()
    published = drain(queue, 12)
    seen = [(e["detail"]["messageId"], e["detail"]["sequence"]) for e in published]
    assert len(seen) == len(set(seen)) == 12
    for n in range(6):
        assert [s for mid, s in seen if mid == message_id(200 + n)] == [1, 2]
    # Stream order kept across messages too: the failing record held the ones after it.
    expected = [(message_id(200 + n), s) for n in range(6) for s in (1, 2)]
    assert seen == expected


def test_a_failed_record_fails_every_later_record_of_the_batch_unprocessed(rig: Rig, env: pytest.MonkeyPatch) -> None:
    for n in range(3):
        callback(message_id(300 + n), "SENDING")
    records = list(streams.read_stream(os.environ["TABLE_NAME"]))
    changes = [index for index, record in enumerate(records) if change_of(record) is not None]
    assert len(changes) == 3
    events = wiring.events()
    real_put = events.put_events
    seen: list[str] = []

    def second_fails(**kwargs: Any) -> Any:
        detail = json.loads(kwargs["Entries"][0]["Detail"])
        seen.append(detail["messageId"])
        if detail["messageId"] == message_id(301):
            raise RuntimeError("boom")
        return real_put(**kwargs)

    env.setattr(events, "put_events", second_fails)
    result = call(FUNCTIONS["NotifierFunction"], {"Records": records})
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [
        r["dynamodb"]["SequenceNumber"] for r in records[changes[1] :]
    ]
    assert seen == [message_id(300), message_id(301)]


def test_the_template_filter_passes_only_status_items_created_or_modified() -> None:
    (source,) = streams.stream_sources()
    status = {"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "MSG#x#y"}, "sk": {"S": "STATUS"}}}}
    event = {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "MSG#x#y"}, "sk": {"S": "EVENT#abc"}}}}
    removed = {"eventName": "REMOVE", "dynamodb": {"Keys": {"pk": {"S": "MSG#x#y"}, "sk": {"S": "STATUS"}}}}
    assert [streams.passes(source.filters, r) for r in (status, event, removed)] == [True, False, False]


class _Trickler:
    """A receiver that answers 200 one header line at a time, every 0.3 s for about 5 s: each read
    is quick, the whole answer is not."""

    def __init__(self) -> None:
        import socket

        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self._socket.settimeout(0.2)
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                continue
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: Any) -> None:
        with connection:
            try:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\n")
                for number in range(16):
                    if self._stop.is_set():
                        return
                    time.sleep(0.3)
                    connection.sendall(f"X-Slow-{number}: 1\r\n".encode())
                connection.sendall(b"Content-Length: 0\r\n\r\n")
            except OSError:
                return

    def stop(self) -> None:
        self._stop.set()
        self._socket.close()


def test_a_receiver_trickling_its_answer_cannot_hold_a_delivery_past_its_budget(rig: Rig) -> None:
    trickler = _Trickler()
    try:
        subscription, _ = rig.store.create(f"http://127.0.0.1:{trickler.port}/", None, SubscriptionFilter())
        callback(message_id(8), "SENDING")
        records = list(streams.read_stream(os.environ["TABLE_NAME"]))
        assert call(FUNCTIONS["NotifierFunction"], {"Records": records}) == {"batchItemFailures": []}
        sqs = boto3.client("sqs")
        (message,) = sqs.receive_message(QueueUrl=rig.refs["DeliveryQueue"], AttributeNames=["All"])["Messages"]
        record = streams.sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:delivery.fifo")
        result = call(FUNCTIONS["DeliveryFunction"], {"Records": [record]})
        assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [record["messageId"]]
        (attempt,) = rig.store.deliveries(subscription.id)
        # Each header came within the read timeout; the whole answer did not come within the budget.
        assert (attempt.outcome, attempt.error) == ("retrying", "timeout")
    finally:
        trickler.stop()
