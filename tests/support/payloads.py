"""What each provider sends, in its own documented shape: webhooks and their signatures or
credentials, callback fields, send responses."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from tests.conftest import TEST_ENV
from textstatus.events import Observation
from textstatus.providers.comapi import ComapiAdapter
from textstatus.providers.wunderkind import WunderkindAdapter

# A fixed "now" for unit tests (the provider times below are a few seconds before it).
NOW = datetime(2026, 11, 22, 10, 0, 3, tzinfo=UTC)
COMAPI_MESSAGE_ID = "d8e296bb-97c4-4495-b98f-1e32e0b11628"
WUNDERKIND_MESSAGE_ID = "f9eea82a-ce63-4dfa-ae8e-09b891f446cc"

# comapi ---------------------------------------------------------------------------------------


def comapi_envelope(
    name: str = "message.delivered",
    status: str = "delivered",
    event_id: str = "evt-1",
    *,
    message_id: str = COMAPI_MESSAGE_ID,
    updated_on: str | None = None,
) -> dict[str, Any]:
    """A Comapi webhook envelope as Comapi documents it (docs/providers.md#comapi-webhooks).

    With `updated_on`, that is the channel's and the envelope's time, and the payload carries no
    time of its own."""
    envelope: dict[str, Any] = {
        "eventId": event_id,
        "accountId": "12345",
        "apiSpaceId": "space-1",
        "name": name,
        "payload": {
            "id": message_id,
            "details": {
                "channel": "sms",
                "additionalInfo": {},
                "channelStatus": {"sms": {"status": status, "details": {}, "updatedOn": "2026-11-22T10:00:01.500Z"}},
            },
            "channelData": {},
            "metadata": {"order": "1234"},
            "updatedOn": "2026-11-22T10:00:01.600Z",
        },
        "revision": 2,
        "etag": "W/abc",
        "timestamp": "2026-11-22T10:00:02.000Z",
    }
    if updated_on is not None:
        envelope["payload"]["details"]["channelStatus"]["sms"]["updatedOn"] = updated_on
        del envelope["payload"]["updatedOn"]
        envelope["timestamp"] = updated_on
    return envelope


def comapi_signature(raw: bytes, secret: str = TEST_ENV["COMAPI_WEBHOOK_SECRET"]) -> str:
    """Comapi's X-Comapi-Signature: the HMAC-SHA1 of the exact body, in hex."""
    return hmac.new(secret.encode(), raw, hashlib.sha1).hexdigest()


def comapi_headers(raw: bytes, secret: str = TEST_ENV["COMAPI_WEBHOOK_SECRET"]) -> dict[str, str]:
    return {"X-Comapi-Signature": comapi_signature(raw, secret)}


COMAPI_201: dict[str, Any] = {
    "_createdOn": "2017-03-17T14:22:40.633Z",
    "_updatedOn": "2017-03-17T14:22:40.633Z",
    "_createdBy": "access:3dd1558a-9db3-406a-8460-cbe5100a7628",
    "_updatedBy": "access:3dd1558a-9db3-406a-8460-cbe5100a7628",
    "to": {"phoneNumber": "447123123123"},
    "senderProfileId": "M0rsy",
    "body": "I love Comapi",
    "rules": ["sms"],
    "sentOn": "2017-03-17T14:22:40.627Z",
    "channelOptions": {"sms": {"from": "Comapi", "allowUnicode": False}},
    "status": "processing",
    "statusDetails": {"channelId": "sms"},
    "messageId": COMAPI_MESSAGE_ID,
}
COMAPI_202: list[dict[str, Any]] = [
    {"index": 0, "messageId": "58bde0da-b380-4cb2-8dd1-ca74fc7a0cda"},
    {"index": 1, "messageId": "0aee96a8-09c9-4192-bf6d-c5f20a323956"},
]

# govdelivery ----------------------------------------------------------------------------------


def govdelivery_fields(base_url: str, message_id: str, status: str, **extra: str) -> dict[str, str]:
    """A TMS callback's fields for a message of the TMS at `base_url`."""
    return {
        "status": status,
        "message_type": "sms",
        "message_url": f"{base_url}/messages/sms/{message_id}",
        "recipient_url": f"{base_url}/messages/sms/{message_id}/recipients/1",
        "sid": "b2c8a7f1",
        "completed_at": "2026-11-22T10:00:05Z",
        **extra,
    }


def tms_recipients(count: int, fail_every: int = 10) -> list[str]:
    """`count` distinct phone numbers for a message of the TMS simulator, every `fail_every`-th one
    failing (the simulator's FAILING_PREFIX), the failing ones ending in different digits so their
    error messages differ; the others are sent."""
    from local.simulators.govdelivery import FAILING_PREFIX

    failing = iter(range(count))
    return [
        f"{FAILING_PREFIX}{next(failing):04d}" if (n + 1) % fail_every == 0 else f"+1555010{n:04d}"
        for n in range(count)
    ]


GOVDELIVERY_201: dict[str, Any] = {
    "body": "Today is Sunny and 70F",
    "created_at": "2014-10-07T17:27:12Z",
    "status": "new",
    "_links": {
        "self": "/messages/sms/165532",
        "recipients": "/messages/sms/165532/recipients",
        "failed": "/messages/sms/165532/recipients/failed",
        "sent": "/messages/sms/165532/recipients/sent",
    },
    "recipient_counts": {
        "total": 2,
        "new": 2,
        "sending": 0,
        "inconclusive": 0,
        "blacklisted": 0,
        "canceled": 0,
        "sent": 0,
        "failed": 0,
    },
}

# usajobs --------------------------------------------------------------------------------------

USAJOBS_200 = {"responseId": "3f1c8e52-9b7d-4f7e-a1b2-6c5d4e3f2a10"}

# wunderkind -----------------------------------------------------------------------------------

WUNDERKIND_CALLBACK_HEADERS = {
    "X-Client-ID": TEST_ENV["WUNDERKIND_CALLBACK_ID"],
    "X-Client-Secret": TEST_ENV["WUNDERKIND_CALLBACK_SECRET"],
}


def wunderkind_callback(status: str, message_id: str = WUNDERKIND_MESSAGE_ID, **extra: Any) -> dict[str, Any]:
    """A Wunderkind callback body as its docs print it."""
    return {
        "messageID": message_id,
        "status": status,
        "phone": "+15551230000",
        "email": None,
        "callbackData": '{"order":"1234"}',
        **extra,
    }


WUNDERKIND_200 = {"messageId": WUNDERKIND_MESSAGE_ID}

# the sender's own correlation data ------------------------------------------------------------

# Objects a sender may give a provider to echo (Comapi's `metadata`, Wunderkind's `callbackData`
# as JSON text): name -> (the object, the metadata kept from it or None, whether anything is
# dropped with a warning and CorrelationDataDropped). The limits are the registration API's.
CORRELATION_OBJECTS: dict[str, tuple[dict[str, Any], dict[str, str] | None, bool]] = {
    "strings": ({"orderId": "order-1234", "shop": "eu-1"}, {"orderId": "order-1234", "shop": "eu-1"}, False),
    "empty": ({}, None, False),
    "numbers-and-booleans": (
        {"orderId": 1234, "vip": True, "score": 2.5},
        {"orderId": "1234", "vip": "true", "score": "2.5"},
        False,
    ),
    "nested-as-compact-json": (
        {"cart": {"items": [1, 2], "total": "9.99"}},
        {"cart": '{"items":[1,2],"total":"9.99"}'},
        False,
    ),
    "value-of-256": ({"note": "v" * 256}, {"note": "v" * 256}, False),
    "value-of-257": ({"orderId": "1", "note": "v" * 257}, {"orderId": "1"}, True),
    "nested-too-long": ({"orderId": "1", "list": list(range(100))}, {"orderId": "1"}, True),
    "null-value": ({"orderId": "1", "gone": None}, {"orderId": "1"}, True),
    "keys-not-allowed": ({"": "a", "with space": "b", "k" * 65: "c", "ok": "d"}, {"ok": "d"}, True),
    "25-entries": ({f"k{n}": str(n) for n in range(25)}, {f"k{n}": str(n) for n in range(20)}, True),
    "only-bad-entries": ({"a b": "x", "big": "v" * 300}, None, True),
    "lone-surrogate": ({"name": "a\ud800b"}, {"name": "a\ufffdb"}, False),
    # Phone numbers and emails are never stored: masked in values, a key that is one is dropped.
    "personal-values-masked": (
        {"orderId": "o-1", "phone": "+1 (202) 555-0199", "contact": "bob.smith+tag@mail.example.co.uk"},
        {"orderId": "o-1", "phone": "*******0199", "contact": "[email]"},
        True,
    ),
    "personal-key-dropped": ({"orderId": "o-1", "12025550177": "k"}, {"orderId": "o-1"}, True),
}

# observations ---------------------------------------------------------------------------------

# Providers whose status words alone map to an outcome (`Adapter.outcome(word)`).
WORD_MAPPED: dict[str, type[ComapiAdapter] | type[WunderkindAdapter]] = {
    "comapi": ComapiAdapter,
    "wunderkind": WunderkindAdapter,
}


def observed(provider: str, message_id: str, word: str, event_at: datetime) -> Observation:
    """What the provider's `word` at `event_at` means, as the adapter would observe it."""
    outcome = WORD_MAPPED[provider].outcome(word)
    return Observation(
        provider=provider,
        message_id=message_id,
        status=outcome.status,
        reason=outcome.reason,
        provider_status=word,
        event_at=event_at,
        provider_gave_time=True,
    )
