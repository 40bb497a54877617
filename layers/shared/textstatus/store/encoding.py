"""The table's keys, and the one mapping between records and DynamoDB items.

One table. Under the partition key `MSG#<provider>#<messageId>`:
- the current status, sort key `STATUS`;
- one item per event, sort key `EVENT#<eventId>` (the id is stable, so a duplicate is one put
  that fails its condition).
Every item carries `expiresAt` (epoch seconds) for DynamoDB's TTL. TTL deletion is lazy (up to
days), so every read filters expired items out.

Three sparse global secondary indexes:
- `due-index` (`dueShard`, `nextPollAt`): only non-final messages carry `dueShard`, so the
  poller reads exactly the due work, sharded to spread the write load;
- `reference-index` (`reference`, `createdAt`): only messages with a reference (registered with
  one, or given one by their correlation data);
- `created-index` (`provider`, `createdAt`, keys only): every status item (no other item carries
  both), for the outcomes report; neither key ever changes, so it costs one index write a message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from textstatus.clock import iso, parse_iso
from textstatus.events import Observation, ReceivedEvent, Source
from textstatus.status import Reason, Status
from textstatus.store.records import CreatedMessage, DueMessage, HistoryEntry, StatusRecord

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

STATUS_SK = "STATUS"
EVENT_PREFIX = "EVENT#"
DUE_INDEX = "due-index"
REFERENCE_INDEX = "reference-index"
CREATED_INDEX = "created-index"
# Changing this re-homes every non-final message; the poller reads all shards each run.
POLL_SHARDS = 8

# A DynamoDB item as plain Python values (only this package sees one).
Item = dict[str, Any]
Key = dict[str, "AttributeValueTypeDef"]
DueCursor = dict[str, Any] | None


def message_key(provider: str, message_id: str) -> Key:
    return {"pk": {"S": f"MSG#{provider}#{message_id}"}, "sk": {"S": STATUS_SK}}


def due_shard(provider: str, message_id: str) -> str:
    digest = hashlib.blake2b(f"{provider}#{message_id}".encode(), digest_size=2).digest()
    return str(int.from_bytes(digest) % POLL_SHARDS)


# Attribute values ----------------------------------------------------------------------


def to_attr(value: Any) -> AttributeValueTypeDef:
    return _codec()[0].serialize(value)


def from_item(raw: Mapping[str, Any]) -> Item:
    deserializer = _codec()[1]
    return {key: _plain(deserializer.deserialize(value)) for key, value in raw.items()}


@cache
def _codec() -> tuple[TypeSerializer, TypeDeserializer]:
    # boto3 is imported when DynamoDB is first used, not when the module is: a request refused
    # before it reaches the store (bad credentials, bad input) never pays for it.
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _plain(value: Any) -> Any:
    """Decimals back to int/float, recursively, so records hold plain values."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


# Status items --------------------------------------------------------------------------


def status_attributes(event: ReceivedEvent, now: datetime, expires_at: int) -> dict[str, Any]:
    """What a status update writes from the event that makes the status (None: removed)."""
    observation = event.observation
    assert observation.status is not None
    attributes: dict[str, Any] = {
        "provider": observation.provider,
        "messageId": observation.message_id,
        "status": observation.status.value,
        "final": observation.status.final,
        "orderKey": observation.order_key,
        "source": event.source.value,
        "providerEventAt": iso(observation.event_at),
        "updatedAt": iso(now),
        "expiresAt": expires_at,
        "reason": observation.reason.value if observation.reason else None,
        "providerStatus": observation.provider_status,
        "providerDetail": observation.provider_detail,
        "segments": observation.segments,
        "recipients": observation.recipients,
    }
    if event.source in (Source.POLL, Source.LOOKUP):
        attributes["lastPolledAt"] = iso(event.received_at)
    return attributes


def correlation_attributes(observation: Observation) -> dict[str, Any]:
    """What the sender's correlation data that came with a report adds to its message, each only
    where the message has none (`Update.set_if_absent`): the data, and the reference it names.

    `correlation` is kept apart from `metadata`, which only a registration sets: the API shows the
    registration's metadata when it gave any (registration wins, whichever came first), else this.
    """
    correlation = observation.correlation
    if correlation is None:
        return {}
    attributes: dict[str, Any] = {"correlation": dict(correlation.metadata)}
    if correlation.reference is not None:
        attributes["reference"] = correlation.reference
    return attributes


def due_attributes(provider: str, message_id: str, next_poll_at: datetime | None) -> dict[str, Any]:
    """The due index's attributes: set for a message to poll, removed (None) otherwise."""
    if next_poll_at is None:
        return {"dueShard": None, "nextPollAt": None, "pollAttempt": None}
    return {"dueShard": due_shard(provider, message_id), "nextPollAt": iso(next_poll_at), "pollAttempt": 0}


def status_record(item: Item) -> StatusRecord:
    return StatusRecord(
        provider=item["provider"],
        message_id=item["messageId"],
        status=Status(item["status"]),
        reason=Reason(item["reason"]) if item.get("reason") else None,
        provider_status=item.get("providerStatus"),
        provider_detail=item.get("providerDetail"),
        source=Source(item["source"]),
        provider_event_at=parse_iso(item["providerEventAt"]),
        order_key=item["orderKey"],
        created_at=parse_iso(item["createdAt"]),
        updated_at=parse_iso(item["updatedAt"]),
        expires_at=datetime.fromtimestamp(int(item["expiresAt"]), UTC),
        version=int(item["version"]),
        segments=item.get("segments"),
        recipients=item.get("recipients"),
        reference=item.get("reference"),
        metadata=item.get("metadata") or item.get("correlation") or {},
        registered_at=_time(item.get("registeredAt")),
        last_polled_at=_time(item.get("lastPolledAt")),
        next_poll_at=_time(item.get("nextPollAt")),
        poll_attempt=int(item["pollAttempt"]) if item.get("pollAttempt") is not None else None,
        changed_by=frozenset(item.get("changedBy") or ()),
    )


def due_message(item: Item) -> DueMessage:
    return DueMessage(
        provider=item["provider"],
        message_id=item["messageId"],
        created_at=parse_iso(item["createdAt"]),
        poll_attempt=int(item.get("pollAttempt", 0)),
        next_poll_at=parse_iso(item["nextPollAt"]),
    )


def created_message(raw: Mapping[str, Any]) -> CreatedMessage:
    """A status item as the outcomes report reads it (only its projected attributes), decoded
    straight from the wire format: a report reads many of them, and this is its hot loop."""
    reason = raw.get("reason", {}).get("S")
    final_at = raw.get("finalAt", {}).get("S")
    return CreatedMessage(
        message_id=raw["messageId"]["S"],
        status=Status(raw["status"]["S"]),
        reason=Reason(reason) if reason else None,
        created_at=parse_iso(raw["createdAt"]["S"]),
        final_at=parse_iso(final_at) if final_at else None,
    )


def _time(value: Any) -> datetime | None:
    return parse_iso(value) if isinstance(value, str) and value else None


# Event items ---------------------------------------------------------------------------


def event_item(event: ReceivedEvent, expires_at: int) -> Key:
    observation = event.observation
    attributes: dict[str, Any] = {
        "pk": f"MSG#{observation.provider}#{observation.message_id}",
        "sk": EVENT_PREFIX + observation.event_id,
        "eventId": observation.event_id,
        "provider": observation.provider,
        "messageId": observation.message_id,
        "source": event.source.value,
        "receivedAt": iso(event.received_at),
        "providerEventAt": iso(observation.event_at),
        "providerGaveTime": observation.provider_gave_time,
        "status": observation.status.value if observation.status else None,
        "reason": observation.reason.value if observation.reason else None,
        "providerStatus": observation.provider_status,
        "providerDetail": observation.provider_detail,
        "providerEventId": observation.provider_event_id,
        "recipientId": observation.recipient_id,
        "segments": observation.segments,
        "recipients": observation.recipients,
        # The rule's key for this event, so history and status compare by the same string.
        "orderKey": observation.order_key,
        "expiresAt": expires_at,
    }
    return {name: to_attr(value) for name, value in attributes.items() if value is not None}


def received_event(item: Item) -> ReceivedEvent:
    """An event from its history item (to show it, or re-apply a stored duplicate)."""
    observation = Observation(
        provider=item["provider"],
        message_id=item["messageId"],
        status=Status(item["status"]) if item.get("status") else None,
        reason=Reason(item["reason"]) if item.get("reason") else None,
        provider_status=item.get("providerStatus"),
        event_at=parse_iso(item["providerEventAt"]),
        provider_detail=item.get("providerDetail"),
        segments=item.get("segments"),
        recipients=item.get("recipients"),
        provider_event_id=item.get("providerEventId"),
        provider_gave_time=bool(item.get("providerGaveTime")),
        # Events stored before recipients were kept have none.
        recipient_id=item.get("recipientId"),
    )
    return ReceivedEvent(observation, Source(item["source"]), parse_iso(item["receivedAt"]))


def history_entry(item: Item, changed_by: frozenset[str]) -> HistoryEntry:
    event = received_event(item)
    return HistoryEntry(
        event_id=item["eventId"],
        event=event,
        order_key=item.get("orderKey") or event.observation.order_key,
        changed_status=item["eventId"] in changed_by,
    )
