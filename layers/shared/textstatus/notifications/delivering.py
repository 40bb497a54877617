"""Delivering one webhook: one FIFO message, one attempt.

The FIFO group (subscription, provider, message) holds its later changes while one is in flight,
so a subscriber receives one message's changes in order. An attempt ends in one of:

- `delivered` (2xx): the message is deleted;
- `disabled` (410 Gone): the subscription is disabled, the message deleted;
- `dropped`: the subscription is gone or disabled; the message is deleted;
- `retrying` (anything else, a timeout, a connection error, a target refused): the message's
  visibility is set to the next backoff delay (exponential, full jitter) and it is reported
  failed, so the group waits for it;
- `dead-lettered`: the same, once the first attempt is older than WEBHOOK_RETRY_HOURS: the
  message is sent to the dead-letter queue and deleted.

Every attempt is recorded (`SubscriptionStore.record_delivery`).
"""

from __future__ import annotations

import json
import queue
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests

from textstatus.clock import utcnow
from textstatus.errors import TextStatusError
from textstatus.notifications import signing, subscribers
from textstatus.notifications.settings import NotificationSettings
from textstatus.observability import count, logger

if TYPE_CHECKING:
    from textstatus.subscriptions.store import SubscriptionStore

DELIVERED = "delivered"
RETRYING = "retrying"
DEAD_LETTERED = "dead-lettered"
DISABLED = "disabled"
DROPPED = "dropped"
GONE = 410
MAX_ERROR_LENGTH = 500


class RetryLaterError(TextStatusError):
    """The attempt failed; the message comes back after its new visibility timeout."""


@dataclass(frozen=True)
class Delivery:
    """One FIFO message as the delivery function receives it."""

    subscription_id: str
    webhook_id: str
    provider: str
    message_id: str
    sequence: int
    payload: str  # the exact body posted and signed
    receipt_handle: str
    attempt: int  # SQS's ApproximateReceiveCount: one receive is one attempt (batch size 1)
    first_attempt_at: datetime  # SQS's ApproximateFirstReceiveTimestamp
    group_id: str | None
    body: str  # the message as received, for the dead-letter queue

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Delivery:
        body = str(record["body"])
        message = json.loads(body)
        attributes = record.get("attributes") or {}
        first_ms = attributes.get("ApproximateFirstReceiveTimestamp") or attributes.get("SentTimestamp")
        return cls(
            subscription_id=str(message["subscriptionId"]),
            webhook_id=str(message["webhookId"]),
            provider=str(message["provider"]),
            message_id=str(message["messageId"]),
            sequence=int(message["sequence"]),
            payload=str(message["payload"]),
            receipt_handle=str(record["receiptHandle"]),
            attempt=max(1, int(attributes.get("ApproximateReceiveCount") or 1)),
            first_attempt_at=datetime.fromtimestamp(int(first_ms) / 1000, UTC) if first_ms else utcnow(),
            group_id=attributes.get("MessageGroupId"),
            body=body,
        )


def backoff_seconds(attempt: int, base: int, cap: int, rng: Callable[[float, float], float] = random.uniform) -> int:
    """Full jitter: uniform between 0 and min(cap, base * 2^(attempt - 1)), in whole seconds (what
    ChangeMessageVisibility takes), at least one."""
    ceiling = min(cap, base * 2 ** min(attempt - 1, 30))
    return max(1, round(rng(0, ceiling)))


@dataclass
class Deliverer:
    sqs: Any  # boto3 SQS client
    http: requests.Session
    settings: NotificationSettings
    clock: Callable[[], datetime] = utcnow

    def deliver(self, delivery: Delivery) -> str:
        """Attempt one delivery; returns its outcome, or raises RetryLaterError (after setting the
        message's visibility) when it must come back."""
        binding = subscribers.binding()
        store = binding.store()
        now = self.clock()
        subscription = subscribers.find(store, delivery.subscription_id)
        if subscription is None or not subscription.enabled:
            return self._record(store, delivery, now, DROPPED, None, "subscription gone or disabled")
        status_code: int | None = None
        error: str | None = None
        try:
            binding.check_target(subscription.url, subscribers.allow_loopback())
            headers = signing.headers(subscription.signing_secrets(now), delivery.webhook_id, now, delivery.payload)
            status_code = self._post(subscription.url, delivery.payload.encode(), headers)
        except requests.Timeout:
            error = "timeout"
        except requests.RequestException as exc:
            error = f"connection error: {type(exc).__name__}"
        except TextStatusError as exc:
            error = f"target refused: {exc}"[:MAX_ERROR_LENGTH]
        if status_code is not None and 200 <= status_code < 300:
            return self._record(store, delivery, now, DELIVERED, status_code, None)
        if status_code == GONE:
            store.disable(delivery.subscription_id, "the target answered 410 Gone")
            return self._record(store, delivery, now, DISABLED, status_code, "410 Gone")
        if error is None:
            error = f"HTTP {status_code}"
        if now - delivery.first_attempt_at >= timedelta(hours=self.settings.webhook_retry_hours):
            self._dead_letter(delivery)
            return self._record(store, delivery, now, DEAD_LETTERED, status_code, error)
        delay = backoff_seconds(
            delivery.attempt, self.settings.webhook_backoff_base_seconds, self.settings.webhook_backoff_cap_seconds
        )
        self.sqs.change_message_visibility(
            QueueUrl=self.settings.delivery_queue_url, ReceiptHandle=delivery.receipt_handle, VisibilityTimeout=delay
        )
        self._record(store, delivery, now, RETRYING, status_code, error)
        raise RetryLaterError(f"{delivery.webhook_id} attempt {delivery.attempt} failed ({error}); again in {delay}s")

    def _post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """The answer's status code, within the whole budget of one attempt (connect + read).

        `requests`' read timeout bounds each read, not the answer: a receiver trickling its
        headers or body a byte at a time could hold the delivery (and the queue's worker) for as
        long as it liked. The call runs in a thread we stop waiting for when the budget is spent
        (it ends on its own at the next read timeout); the body is never read, only the status.
        """
        connect, read = self.settings.webhook_connect_timeout_seconds, self.settings.webhook_read_timeout_seconds
        answer: queue.Queue[int | BaseException] = queue.Queue(maxsize=1)

        def post() -> None:
            try:
                response = self.http.post(
                    url, data=body, headers=dict(headers), timeout=(connect, read), allow_redirects=False, stream=True
                )
                answer.put(response.status_code)
                response.close()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, which classifies it
                answer.put(exc)

        threading.Thread(target=post, name="webhook-post", daemon=True).start()
        try:
            outcome = answer.get(timeout=connect + read)
        except queue.Empty:
            raise requests.Timeout(f"no whole answer within {connect + read:g} s") from None
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _dead_letter(self, delivery: Delivery) -> None:
        """Send it to the dead-letter queue; reporting it processed then deletes it."""
        arguments: dict[str, Any] = {"QueueUrl": self.settings.delivery_dlq_url, "MessageBody": delivery.body}
        if self.settings.delivery_dlq_url.endswith(".fifo"):
            arguments["MessageGroupId"] = delivery.group_id or delivery.subscription_id
            arguments["MessageDeduplicationId"] = delivery.webhook_id
        self.sqs.send_message(**arguments)
        logger.error(
            "webhook dead-lettered",
            extra={"webhook_id": delivery.webhook_id, "subscription_id": delivery.subscription_id},
        )

    def _record(
        self,
        store: SubscriptionStore,
        delivery: Delivery,
        at: datetime,
        outcome: str,
        status_code: int | None,
        error: str | None,
    ) -> str:
        attempt = subscribers.binding().attempt(
            subscription_id=delivery.subscription_id,
            webhook_id=delivery.webhook_id,
            provider=delivery.provider,
            message_id=delivery.message_id,
            sequence=delivery.sequence,
            attempt=delivery.attempt,
            status_code=status_code,
            error=error,
            at=at,
            outcome=outcome,
        )
        try:
            store.record_delivery(attempt)
        except Exception:  # noqa: BLE001 - the outcome stands (a delivered webhook is not sent again)
            logger.exception("delivery attempt not recorded", extra={"webhook_id": delivery.webhook_id})
            count("WebhookRecordFailed")
        count(f"Webhook{outcome.title().replace('-', '')}")
        return outcome
