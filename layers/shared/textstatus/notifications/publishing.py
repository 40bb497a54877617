"""Publishing one change: an EventBridge event, then one FIFO message per matching subscription.

Both are at least once: a change whose publication failed is published again from the start
when the stream batch is retried. The SQS messages carry the webhook id as their deduplication
id (SQS drops a repeat within 5 minutes); consumers of the bus deduplicate by the detail's
provider, messageId and sequence.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textstatus.errors import TextStatusError
from textstatus.notifications import subscribers
from textstatus.notifications.changes import (
    DETAIL_TYPE,
    EVENT_SOURCE,
    StatusChange,
    group_id,
    webhook_id,
    webhook_payload,
)

if TYPE_CHECKING:
    from textstatus.subscriptions.records import Subscription

SQS_BATCH = 10  # SendMessageBatch takes at most 10 entries


class PublishError(TextStatusError):
    """A change could not be published (in full): its stream record is retried."""


def delivery_message(change: StatusChange, subscription_id: str) -> dict[str, Any]:
    """The body of one FIFO message: what the delivery function needs to deliver, with the
    payload as the exact text that is signed and posted on every attempt."""
    return {
        "subscriptionId": subscription_id,
        "webhookId": webhook_id(subscription_id, change.provider, change.message_id, change.sequence),
        "provider": change.provider,
        "messageId": change.message_id,
        "sequence": change.sequence,
        "payload": json.dumps(webhook_payload(change), separators=(",", ":"), ensure_ascii=False),
    }


@dataclass
class Publisher:
    events: Any  # boto3 EventBridge client
    sqs: Any  # boto3 SQS client
    event_bus_name: str
    delivery_queue_url: str
    subscriptions: Callable[[], list[Subscription]]
    # Counters for logs and metrics.
    published: int = 0
    enqueued: int = 0
    _listed: list[Subscription] | None = field(default=None, repr=False)

    def subscription_list(self) -> list[Subscription]:
        """The subscriptions, read once per batch (a new Publisher per invocation)."""
        if self._listed is None:
            self._listed = list(self.subscriptions())
        return self._listed

    def publish(self, change: StatusChange) -> None:
        self._put_event(change)
        matching = subscribers.matching(self.subscription_list(), change.provider, change.status, change.final)
        self._enqueue(change, matching)

    def _put_event(self, change: StatusChange) -> None:
        if not self.event_bus_name:
            return
        response = self.events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": DETAIL_TYPE,
                    "Detail": json.dumps(change.data(), separators=(",", ":")),
                    "EventBusName": self.event_bus_name,
                    "Resources": [],
                }
            ]
        )
        if response.get("FailedEntryCount"):
            codes = {entry.get("ErrorCode") for entry in response.get("Entries", []) if entry.get("ErrorCode")}
            raise PublishError(f"EventBridge refused the event ({', '.join(sorted(map(str, codes)))})")
        self.published += 1

    def _enqueue(self, change: StatusChange, subscription_ids: list[str]) -> None:
        if not subscription_ids:
            return
        if not self.delivery_queue_url:
            raise PublishError("DELIVERY_QUEUE_URL is not configured")
        entries = []
        for index, subscription_id in enumerate(subscription_ids):
            body = delivery_message(change, subscription_id)
            entries.append(
                {
                    "Id": str(index),
                    "MessageBody": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
                    "MessageGroupId": group_id(subscription_id, change.provider, change.message_id),
                    "MessageDeduplicationId": body["webhookId"],
                }
            )
        for start in range(0, len(entries), SQS_BATCH):
            response = self.sqs.send_message_batch(
                QueueUrl=self.delivery_queue_url, Entries=entries[start : start + SQS_BATCH]
            )
            if response.get("Failed"):
                codes = sorted({str(failed.get("Code")) for failed in response["Failed"]})
                raise PublishError(f"SQS refused {len(response['Failed'])} message(s) ({', '.join(codes)})")
            self.enqueued += len(response.get("Successful", []))
