"""The notification functions' clients and services, built lazily once per cold start."""

from __future__ import annotations

from functools import cache
from typing import Any

import requests

from textstatus.notifications import subscribers
from textstatus.notifications.delivering import Deliverer
from textstatus.notifications.publishing import Publisher
from textstatus.notifications.settings import notification_settings


def _client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,  # type: ignore[call-overload]
        config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5),
    )


@cache
def events() -> Any:
    return _client("events")


@cache
def sqs() -> Any:
    return _client("sqs")


@cache
def http() -> requests.Session:
    """One keep-alive session: a subscriber's next webhook reuses the connection."""
    session = requests.Session()
    session.headers["User-Agent"] = "textstatus-webhooks/1"
    return session


def publisher() -> Publisher:
    """A new publisher per invocation (it reads the subscriptions once per batch)."""
    settings = notification_settings()
    return Publisher(
        events=events(),
        sqs=sqs(),
        event_bus_name=settings.event_bus_name,
        delivery_queue_url=settings.delivery_queue_url,
        subscriptions=lambda: subscribers.binding().store().list(),
    )


@cache
def deliverer() -> Deliverer:
    return Deliverer(sqs=sqs(), http=http(), settings=notification_settings())


def reset() -> None:
    for built in (events, sqs, http, deliverer):
        built.cache_clear()
