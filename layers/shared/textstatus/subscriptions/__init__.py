"""Webhook subscriptions: clients register URLs to be told the moment a status changes.

- `records`: what the store hands out (`Subscription`, `SubscriptionFilter`, `SigningSecret`,
  `DeliveryAttempt`);
- `store`: `SubscriptionStore`, subscriptions and their delivery records in the one table;
- `targets`: `check_target`, which refuses webhook URLs that are not public HTTPS (SSRF);
- `models`: the HTTP resources of the subscription routes, and the one mapping to them.
"""

from textstatus.subscriptions.records import OUTCOMES, DeliveryAttempt, SigningSecret, Subscription, SubscriptionFilter
from textstatus.subscriptions.store import SECRET_OVERLAP, SubscriptionStore, new_secret
from textstatus.subscriptions.targets import TargetRefusedError, check_target

__all__ = [
    "OUTCOMES",
    "SECRET_OVERLAP",
    "DeliveryAttempt",
    "SigningSecret",
    "Subscription",
    "SubscriptionFilter",
    "SubscriptionStore",
    "TargetRefusedError",
    "check_target",
    "new_secret",
]
