"""Concurrent, reordered and duplicated callbacks for one message over real HTTP, against the
local stack's gateway (several execution environments) and its DynamoDB server."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import requests

from local.dynamodb import LocalDynamoDB
from local.gateway import LocalGateway
from tests.conftest import TEST_ENV
from tests.support import create_table
from tests.unit.test_provider_callbacks import MESSAGE_ID, envelope

# A message's life as Comapi reports it, one event per status change.
EVENTS = [
    envelope("message.sent", "sent", "ev-sent"),
    envelope("message.delivered", "delivered", "ev-delivered"),
    envelope("message.read", "read", "ev-read"),
    envelope("message.failed", "failed", "ev-failed"),
]
for number, event in enumerate(EVENTS):
    event["payload"]["details"]["channelStatus"]["sms"]["updatedOn"] = f"2026-11-22T10:00:0{number}.000Z"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def local_stack(env: pytest.MonkeyPatch) -> Iterator[str]:
    dynamodb = LocalDynamoDB(free_port()).start()
    env.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.url)
    create_table(TEST_ENV["TABLE_NAME"], boto3.client("dynamodb"))
    gateway = LocalGateway("127.0.0.1", free_port(), "race-key", containers=4)
    import threading

    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    host, port = gateway.server_address[:2]
    try:
        yield f"http://{host!s}:{port}"
    finally:
        gateway.shutdown()
        dynamodb.stop()


def test_hundreds_of_concurrent_callbacks_in_random_orders_end_right(local_stack: str) -> None:
    bodies = [json.dumps(event).encode() for event in EVENTS]
    deliveries = [body for body in bodies for _ in range(60)]
    random.Random(7).shuffle(deliveries)
    secret = TEST_ENV["COMAPI_WEBHOOK_SECRET"].encode()

    def deliver(body: bytes) -> int:
        signature = hmac.new(secret, body, hashlib.sha1).hexdigest()
        response = requests.post(
            f"{local_stack}/v1/callbacks/comapi",
            data=body,
            headers={"Content-Type": "application/json", "X-Comapi-Signature": signature},
            timeout=30,
        )
        return response.status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(deliver, deliveries))
    assert len(codes) == 240
    assert set(codes) == {200}
    status = requests.get(
        f"{local_stack}/v1/messages/comapi/{MESSAGE_ID}", headers={"x-api-key": "race-key"}, timeout=10
    ).json()
    # read (delivered, rank 70) at 10:00:02 is the greatest; failed (60) comes later but ranks lower
    assert (status["status"], status["providerStatus"]) == ("delivered", "read")
    assert 1 <= status["version"] <= 3
    history = requests.get(
        f"{local_stack}/v1/messages/comapi/{MESSAGE_ID}/events", headers={"x-api-key": "race-key"}, timeout=10
    ).json()
    assert sorted(e["eventId"] for e in history["events"]) == sorted(f"comapi:{e['eventId']}" for e in EVENTS)
    changed = [e for e in history["events"] if e["changedStatus"]]
    assert changed[0]["providerStatus"] == "read"
