"""The local webhook receiver verifies deliveries with the standardwebhooks package."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from local.receiver import WebhookReceiver
from textstatus.subscriptions import new_secret

BODY = json.dumps(
    {
        "type": "message.status.changed",
        "timestamp": "2026-11-22T10:00:03.000000Z",
        "data": {"provider": "wunderkind", "messageId": "m-1", "status": "delivered", "sequence": 3},
    },
    separators=(",", ":"),
)


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.fixture
def receiver(secret: str) -> Iterator[WebhookReceiver]:
    running = WebhookReceiver(secret).start()
    yield running
    running.stop()


def signed(secret: str, body: str, webhook_id: str = "msg_1", at: datetime | None = None) -> dict[str, str]:
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign(webhook_id, at, body)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }


def test_a_signed_delivery_is_verified_recorded_and_printed(
    receiver: WebhookReceiver, secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = requests.post(receiver.url, data=BODY, headers=signed(secret, BODY), timeout=5)
    assert answer.status_code == 200
    (delivery,) = receiver.received
    assert delivery.webhook_id == "msg_1"
    assert delivery.data["status"] == "delivered"
    out = capsys.readouterr().out
    assert "webhook-id=msg_1 sequence=3 provider=wunderkind message=m-1 status=delivered" in out


def test_two_signatures_during_a_rotation_are_accepted_with_either_secret(secret: str) -> None:
    previous = new_secret()
    at = datetime.now(UTC)
    headers = signed(secret, BODY, at=at)
    headers["webhook-signature"] += " " + Webhook(previous).sign("msg_1", at, BODY)
    for receiving_secret in (secret, previous):
        receiver = WebhookReceiver(receiving_secret).start()
        try:
            assert requests.post(receiver.url, data=BODY, headers=headers, timeout=5).status_code == 200
        finally:
            receiver.stop()


def test_a_tampered_body_is_refused(receiver: WebhookReceiver, secret: str, capsys: pytest.CaptureFixture[str]) -> None:
    headers = signed(secret, BODY)
    tampered = BODY.replace("delivered", "failed")
    answer = requests.post(receiver.url, data=tampered, headers=headers, timeout=5)
    assert answer.status_code == 401
    assert receiver.received == []
    assert len(receiver.refused) == 1
    assert "refused webhook-id=msg_1" in capsys.readouterr().err


def test_a_stale_timestamp_is_refused(receiver: WebhookReceiver, secret: str) -> None:
    stale = datetime.now(UTC) - timedelta(minutes=10)
    answer = requests.post(receiver.url, data=BODY, headers=signed(secret, BODY, at=stale), timeout=5)
    assert answer.status_code == 401
    assert receiver.received == []
    assert "too old" in receiver.refused[0]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"webhook-id": "msg_1", "webhook-timestamp": "nonsense", "webhook-signature": "v1,AAAA"},
        {"webhook-id": "msg_1", "webhook-timestamp": "0", "webhook-signature": "garbage"},
    ],
)
def test_missing_or_malformed_headers_are_refused(receiver: WebhookReceiver, headers: dict[str, str]) -> None:
    answer = requests.post(receiver.url, data=BODY, headers=headers, timeout=5)
    assert answer.status_code == 401


def test_another_secret_is_refused(receiver: WebhookReceiver) -> None:
    answer = requests.post(receiver.url, data=BODY, headers=signed(new_secret(), BODY), timeout=5)
    assert answer.status_code == 401
