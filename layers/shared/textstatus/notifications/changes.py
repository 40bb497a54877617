"""A status change read from the table's stream, and what is published about it.

The event source mapping's filter lets through only INSERT and MODIFY of status items (`sk =
STATUS`). A filter cannot compare the old image with the new one, and most writes to a status
item are not changes of status (a poll that reschedules the message, a later report of the same
status): `change_of` keeps only the records whose `version` went up, and ignores the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from textstatus.api.models import message_status
from textstatus.clock import iso, parse_iso
from textstatus.store.encoding import STATUS_SK, from_item, status_record

EVENT_SOURCE = "textstatus"
DETAIL_TYPE = "Message Status Changed"
WEBHOOK_TYPE = "message.status.changed"
# SQS limits a MessageGroupId to 128 characters.
MAX_GROUP_ID = 128


@dataclass(frozen=True)
class StatusChange:
    """One change of a message's status: the status resource after it, and what it was before."""

    provider: str
    message_id: str
    status: str
    final: bool
    sequence: int  # the status item's version after the change: 1, 2, 3...
    previous_status: str | None
    changed_at: str  # ISO 8601: the status item's updatedAt
    resource: Mapping[str, Any]  # the API's status resource (camelCase), as GET answers it

    def data(self) -> dict[str, Any]:
        """The status resource plus `previousStatus` and `sequence`: the event's detail and the
        webhook's data."""
        return {**self.resource, "previousStatus": self.previous_status, "sequence": self.sequence}


def change_of(record: Mapping[str, Any]) -> StatusChange | None:
    """The status change a stream record (Lambda's DynamoDB stream shape) carries, or None when
    it is not one (not a status item, a removal, or a write that did not change the status)."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    dynamodb = record.get("dynamodb") or {}
    new_raw, old_raw = dynamodb.get("NewImage"), dynamodb.get("OldImage")
    if not new_raw:
        return None
    new = from_item(new_raw)
    old = from_item(old_raw) if old_raw else None
    if new.get("sk") != STATUS_SK or "version" not in new:
        return None
    new_version = int(new["version"])
    old_version = int(old.get("version", 0)) if old else 0
    if new_version <= old_version:
        return None  # not a change of status: the filter cannot tell, so we do
    status = status_record(new)
    resource = message_status(status).model_dump(mode="json", by_alias=True)
    return StatusChange(
        provider=status.provider,
        message_id=status.message_id,
        status=status.status.value,
        final=status.final,
        sequence=new_version,
        previous_status=str(old["status"]) if old and old.get("status") else None,
        changed_at=iso(parse_iso(str(new["updatedAt"]))),
        resource=resource,
    )


def webhook_id(subscription_id: str, provider: str, message_id: str, sequence: int) -> str:
    """The webhook's id: stable for one subscription and one change, so every retry (and every
    republication of the same change) carries the same id and SQS deduplicates it."""
    digest = hashlib.sha256(f"{subscription_id}\n{provider}\n{message_id}\n{sequence}".encode()).hexdigest()
    return f"msg_{digest[:40]}"


def group_id(subscription_id: str, provider: str, message_id: str) -> str:
    """One FIFO group per subscription and message: one message's changes reach one subscriber in
    order, and different messages never wait on each other."""
    group = f"{subscription_id}#{provider}#{message_id}"
    if len(group) <= MAX_GROUP_ID:
        return group
    digest = hashlib.sha256(message_id.encode()).hexdigest()[:40]
    return f"{subscription_id}#{provider}#sha256:{digest}"[:MAX_GROUP_ID]


def webhook_payload(change: StatusChange) -> dict[str, Any]:
    return {"type": WEBHOOK_TYPE, "timestamp": change.changed_at, "data": change.data()}
