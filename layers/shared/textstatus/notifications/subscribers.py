"""The one place that knows the subscriptions package (built on another branch).

Everything the notifier and the delivery function need from subscriptions goes through here:

- `SubscriptionStore` (`textstatus.subscriptions.store`): `.list() -> list[Subscription]`,
  `.disable(id, reason)`, `.record_delivery(DeliveryAttempt(...))`;
- `Subscription`: `.id`, `.enabled`, `.url`, `.filter.matches(provider, status, final)`,
  `.signing_secrets(now) -> list[str]` (two during a rotation);
- `check_target(url, allow_loopback)` (`textstatus.subscriptions.targets`), which raises
  `InvalidRequestError` for a target we must not call;
- the setting `WEBHOOKS_ALLOW_LOOPBACK` (`config.Settings.webhooks_allow_loopback`).

The protocols below say exactly what is used. `binding()` imports the real package on first use;
`install()` replaces it (tests, benchmarks, and the local stack until the branch is merged).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from textstatus import config


class SubscriptionFilter(Protocol):
    def matches(self, provider: str, status: str, final: bool) -> bool: ...


class Subscription(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def url(self) -> str: ...
    @property
    def filter(self) -> SubscriptionFilter: ...
    def signing_secrets(self, now: datetime) -> builtins.list[str]: ...


class SubscriptionStore(Protocol):
    def list(self) -> builtins.list[Any]: ...
    def disable(self, subscription_id: str, reason: str) -> Any: ...
    def record_delivery(self, attempt: Any) -> Any: ...


@dataclass(frozen=True)
class Binding:
    """The subscriptions package as the notifications use it."""

    store: Callable[[], SubscriptionStore]
    # DeliveryAttempt(subscription_id, webhook_id, provider, message_id, sequence, attempt,
    # status_code, error, at, outcome)
    attempt: Callable[..., Any]
    check_target: Callable[[str, bool], None]


_installed: Binding | None = None


def install(binding: Binding | None) -> None:
    """Use `binding` instead of the subscriptions package (None: the package again)."""
    global _installed  # one per process, like the rest of the wiring
    _installed = binding


def binding() -> Binding:
    global _installed  # built once per cold start
    if _installed is None:
        _installed = _real_binding()
    return _installed


def _real_binding() -> Binding:
    from textstatus import runtime
    from textstatus.subscriptions.store import (  # type: ignore[import-not-found,unused-ignore]
        DeliveryAttempt,
        SubscriptionStore,
    )
    from textstatus.subscriptions.targets import check_target  # type: ignore[import-not-found,unused-ignore]

    built: list[SubscriptionStore] = []

    def store() -> SubscriptionStore:
        if not built:
            messages = runtime.store()
            built.append(SubscriptionStore(messages._client, messages._table))
        return built[0]

    return Binding(store=store, attempt=DeliveryAttempt, check_target=check_target)


def allow_loopback() -> bool:
    """WEBHOOKS_ALLOW_LOOPBACK (added to config.Settings by the subscriptions branch)."""
    return bool(getattr(config.settings(), "webhooks_allow_loopback", False))


def matching(subscriptions: builtins.list[Subscription], provider: str, status: str, final: bool) -> builtins.list[str]:
    """The ids of the enabled subscriptions whose filter matches, in a stable order."""
    return sorted(s.id for s in subscriptions if s.enabled and s.filter.matches(provider, status, final))


def find(store: SubscriptionStore, subscription_id: str) -> Subscription | None:
    """One subscription: the store's `get` if it has one, else from its list."""
    get = getattr(store, "get", None)
    if callable(get):
        found: Subscription | None = get(subscription_id)
        return found
    return next((s for s in store.list() if s.id == subscription_id), None)
