"""The notification settings, validated once per cold start (read through `config`)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from textstatus.config import EnvSettings, load


class NotificationSettings(EnvSettings):
    """Where changes go, and how webhooks are delivered and retried."""

    # The template passes the bus's name and the queues' URLs (Ref); empty: not configured.
    event_bus_name: str = ""
    delivery_queue_url: str = ""
    delivery_dlq_url: str = ""
    # Standard Webhooks timeouts for one POST (connect, read).
    webhook_connect_timeout_seconds: float = Field(3, gt=0, le=30)
    webhook_read_timeout_seconds: float = Field(10, gt=0, le=60)
    # Retries: exponential backoff with full jitter, for at least this long after the first attempt.
    webhook_backoff_base_seconds: int = Field(5, ge=1, le=3600)
    webhook_backoff_cap_seconds: int = Field(3600, ge=1, le=43_200)
    webhook_retry_hours: float = Field(24, gt=0, le=24 * 13)

    @model_validator(mode="after")
    def _backoff_bounds(self) -> Self:
        if self.webhook_backoff_cap_seconds < self.webhook_backoff_base_seconds:
            raise ValueError("WEBHOOK_BACKOFF_CAP_SECONDS must be at least WEBHOOK_BACKOFF_BASE_SECONDS")
        return self


def notification_settings() -> NotificationSettings:
    loaded: NotificationSettings = load(NotificationSettings)
    return loaded
