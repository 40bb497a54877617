"""Concurrent, reordered and duplicated callbacks for one message over real HTTP, against the
local stack's gateway (several execution environments) and its DynamoDB server."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.aws import local_api
from tests.support.payloads import COMAPI_MESSAGE_ID as MESSAGE_ID
from tests.support.payloads import comapi_envelope, comapi_headers

# A message's life as Comapi reports it, one event per status change.
EVENTS = [
    comapi_envelope("message.sent", "sent", "ev-sent"),
    comapi_envelope("message.delivered", "delivered", "ev-delivered"),
    comapi_envelope("message.read", "read", "ev-read"),
    comapi_envelope("message.failed", "failed", "ev-failed"),
]
for number, event in enumerate(EVENTS):
    event["payload"]["details"]["channelStatus"]["sms"]["updatedOn"] = f"2026-11-22T10:00:0{number}.000Z"


@pytest.fixture
def local_stack(env: pytest.MonkeyPatch) -> Iterator[str]:
    with local_api(env, "race-key", containers=4) as url:
        yield url


def test_hundreds_of_concurrent_callbacks_in_random_orders_end_right(local_stack: str) -> None:
    bodies = [json.dumps(event).encode() for event in EVENTS]
    deliveries = [body for body in bodies for _ in range(60)]
    random.Random(7).shuffle(deliveries)

    def deliver(body: bytes) -> int:
        response = requests.post(
            f"{local_stack}/v1/callbacks/comapi",
            data=body,
            headers={"Content-Type": "application/json", **comapi_headers(body)},
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
    # changedStatus is what each conditional update did: one change to `delivered` (by its
    # `delivered` or its `read`: `read` after `delivered` is the same status), and exactly as
    # many as the version counts (which ones depends on the race, not on a replay).
    changed = [e["status"] for e in history["events"] if e["changedStatus"]]
    assert changed.count("delivered") == 1
    assert len(changed) == status["version"]
