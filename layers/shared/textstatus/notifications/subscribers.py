"""What the notifier and the delivery function use of the subscriptions package, in one place.

- the store (`runtime.subscriptions()`): `.list()`, `.get(id)`, `.disable(id, reason)`,
  `.record_delivery(DeliveryAttempt(...))`;
- `Subscription`: `.id`, `.enabled`, `.url`, `.filter.matches(provider, status, final)`,
  `.signing_secrets(now)` (two during a rotation);
- `check_target(url, allow_loopback)`, refusing a target we must not call (checked again before
  each delivery: DNS can change);
- the setting `WEBHOOKS_ALLOW_LOOPBACK`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textstatus import config

if TYPE_CHECKING:
    from collections.abc import Callable

    from textstatus.subscriptions.records import DeliveryAttempt, Subscription
    from textstatus.subscriptions.store import SubscriptionStore


@dataclass(frozen=True)
class Binding:
    """The subscriptions package as the notifications use it."""

    store: Callable[[], SubscriptionStore]
    attempt: type[DeliveryAttempt]
    check_target: Callable[[str, bool], None]


_built: list[Binding] = []


def binding() -> Binding:
    """Built once per cold start (the subscriptions package is imported only by the functions
    that deliver)."""
    if not _built:
        from textstatus import runtime
        from textstatus.subscriptions.records import DeliveryAttempt
        from textstatus.subscriptions.targets import check_target

        _built.append(Binding(store=runtime.subscriptions, attempt=DeliveryAttempt, check_target=check_target))
    return _built[0]


def allow_loopback() -> bool:
    return config.settings().webhooks_allow_loopback


def matching(subscriptions: list[Subscription], provider: str, status: str, final: bool) -> list[str]:
    """The ids of the enabled subscriptions whose filter matches, in a stable order."""
    return sorted(s.id for s in subscriptions if s.enabled and s.filter.matches(provider, status, final))


def find(store: SubscriptionStore, subscription_id: str) -> Subscription | None:
    return store.get(subscription_id)
