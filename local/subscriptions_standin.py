"""A stand-in for the subscriptions package, until its branch is merged: the interface the
notifications code against (`textstatus.notifications.subscribers`), over the same table, with
items written as the real store will write them (`pk = SUBSCRIPTIONS`, `sk = SUB#<id>`).

The tests, the benchmark and the local stack install it (`install()`) only when
`textstatus.subscriptions` cannot be imported.
"""

from __future__ import annotations

import builtins
import importlib.util
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from textstatus.errors import InvalidRequestError
from textstatus.notifications import subscribers
from textstatus.store.encoding import from_item, to_attr

PARTITION = "SUBSCRIPTIONS"


@dataclass(frozen=True)
class Filter:
    providers: tuple[str, ...] = ()  # empty: every provider
    statuses: tuple[str, ...] = ()  # empty: every status
    final_only: bool = False

    def matches(self, provider: str, status: str, final: bool) -> bool:
        return (
            (not self.providers or provider in self.providers)
            and (not self.statuses or status in self.statuses)
            and (final or not self.final_only)
        )


@dataclass(frozen=True)
class Subscription:
    id: str
    url: str
    secrets: tuple[str, ...]
    enabled: bool = True
    filter: Filter = field(default_factory=Filter)
    disabled_reason: str | None = None

    def signing_secrets(self, now: datetime) -> list[str]:
        return list(self.secrets)


@dataclass(frozen=True)
class DeliveryAttempt:
    subscription_id: str
    webhook_id: str
    provider: str
    message_id: str
    sequence: int
    attempt: int
    status_code: int | None
    error: str | None
    at: datetime
    outcome: str


class SubscriptionStore:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def put(self, subscription: Subscription) -> None:
        item = {
            "pk": PARTITION,
            "sk": f"SUB#{subscription.id}",
            "id": subscription.id,
            "url": subscription.url,
            "secrets": list(subscription.secrets),
            "enabled": subscription.enabled,
            "providers": list(subscription.filter.providers),
            "statuses": list(subscription.filter.statuses),
            "finalOnly": subscription.filter.final_only,
        }
        self._client.put_item(TableName=self._table, Item={k: to_attr(v) for k, v in item.items()})

    def list(self) -> list[Subscription]:
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :sub)",
            ExpressionAttributeValues={":pk": {"S": PARTITION}, ":sub": {"S": "SUB#"}},
        )
        return [_subscription(from_item(raw)) for raw in response.get("Items", [])]

    def get(self, subscription_id: str) -> Subscription | None:
        key = {"pk": {"S": PARTITION}, "sk": {"S": f"SUB#{subscription_id}"}}
        raw = self._client.get_item(TableName=self._table, Key=key).get("Item")
        return _subscription(from_item(raw)) if raw else None

    def disable(self, subscription_id: str, reason: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": PARTITION}, "sk": {"S": f"SUB#{subscription_id}"}},
            UpdateExpression="SET enabled = :false, disabledReason = :reason",
            ExpressionAttributeValues={":false": {"BOOL": False}, ":reason": {"S": reason}},
        )

    def record_delivery(self, attempt: DeliveryAttempt) -> None:
        item = {
            "pk": f"SUB#{attempt.subscription_id}",
            "sk": f"DELIVERY#{attempt.at.isoformat()}#{attempt.webhook_id}#{attempt.attempt:05d}",
            "webhookId": attempt.webhook_id,
            "provider": attempt.provider,
            "messageId": attempt.message_id,
            "sequence": attempt.sequence,
            "attempt": attempt.attempt,
            "statusCode": attempt.status_code,
            "error": attempt.error,
            "at": attempt.at.isoformat(),
            "outcome": attempt.outcome,
        }
        self._client.put_item(TableName=self._table, Item={k: to_attr(v) for k, v in item.items() if v is not None})

    def deliveries(self, subscription_id: str) -> builtins.list[dict[str, Any]]:
        """Every recorded attempt, oldest first (tests, benchmarks)."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :d)",
            ExpressionAttributeValues={":pk": {"S": f"SUB#{subscription_id}"}, ":d": {"S": "DELIVERY#"}},
        )
        return [from_item(raw) for raw in response.get("Items", [])]


def _subscription(item: dict[str, Any]) -> Subscription:
    return Subscription(
        id=item["id"],
        url=item["url"],
        secrets=tuple(item.get("secrets") or ()),
        enabled=bool(item.get("enabled", True)),
        filter=Filter(
            providers=tuple(item.get("providers") or ()),
            statuses=tuple(item.get("statuses") or ()),
            final_only=bool(item.get("finalOnly", False)),
        ),
        disabled_reason=item.get("disabledReason"),
    )


def check_target(url: str, allow_loopback: bool) -> None:
    """Only the scheme: the real check (private and loopback addresses) is the other branch's."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise InvalidRequestError("the target must be an http(s) URL")


def store() -> SubscriptionStore:
    from textstatus import runtime

    messages = runtime.store()
    return SubscriptionStore(messages._client, messages._table)


def binding() -> subscribers.Binding:
    return subscribers.Binding(store=store, attempt=DeliveryAttempt, check_target=check_target)


def real_package_present() -> bool:
    return importlib.util.find_spec("textstatus.subscriptions") is not None


def install() -> bool:
    """Install the stand-in unless the subscriptions package is there; True if installed."""
    if real_package_present():
        subscribers.install(None)
        return False
    subscribers.install(binding())
    return True
