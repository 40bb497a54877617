"""What the subscription store hands out: typed, frozen records (no DynamoDB item leaves the store)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# What became of one delivery attempt.
OUTCOMES = ("delivered", "retrying", "dead-lettered", "disabled", "dropped")


@dataclass(frozen=True)
class SubscriptionFilter:
    """Which changes a subscription wants. An empty tuple means any."""

    providers: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    final_only: bool = False

    def matches(self, provider: str, status: str, final: bool) -> bool:
        if self.providers and provider not in self.providers:
            return False
        if self.statuses and status not in self.statuses:
            return False
        return final or not self.final_only


@dataclass(frozen=True)
class SigningSecret:
    """`whsec_<base64 of 32 random bytes>`; `expires_at` is None for the current secret, and the
    end of the overlap for the previous one after a rotation."""

    value: str
    expires_at: datetime | None

    def __repr__(self) -> str:
        return f"SigningSecret(expires_at={self.expires_at!r})"


@dataclass(frozen=True)
class Subscription:
    """A client's webhook. `secrets` holds the current secret first, then the previous one (until
    it expires)."""

    id: str
    url: str
    description: str | None
    filter: SubscriptionFilter
    enabled: bool
    created_at: datetime
    secrets: tuple[SigningSecret, ...]
    disabled_reason: str | None = None

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets a delivery is signed with now: the current one, plus the previous one
        until its `expires_at` (Standard Webhooks: one `v1,` signature per secret)."""
        return [s.value for s in self.secrets if s.expires_at is None or s.expires_at > now]


@dataclass(frozen=True)
class DeliveryAttempt:
    """One attempt to deliver one change to one subscription."""

    subscription_id: str
    webhook_id: str
    provider: str
    message_id: str
    sequence: int
    attempt: int
    status_code: int | None
    error: str | None
    at: datetime
    outcome: str  # one of OUTCOMES
