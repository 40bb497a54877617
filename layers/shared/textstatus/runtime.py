"""The wiring, built lazily once per cold start: boto3 client, stores, tracker, poller.

Nothing is built at import time, so tests (moto) and the local stack can point the
DynamoDB client anywhere (AWS_ENDPOINT_URL_DYNAMODB) before the first request.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from textstatus import config
from textstatus.providers import registry
from textstatus.store import MessageStore
from textstatus.tracking import CALLBACK_CONCURRENCY, Tracker

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from textstatus.polling import Poller
    from textstatus.recipients import Recipients
    from textstatus.reports import Reports
    from textstatus.subscriptions import SubscriptionStore


@cache
def dynamodb() -> DynamoDBClient:
    """The one DynamoDB client, shared by the stores."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        config=Config(
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=2,
            read_timeout=5,
            tcp_keepalive=True,
            # The events of a batched callback are written concurrently (tracking.CALLBACK_CONCURRENCY).
            max_pool_connections=CALLBACK_CONCURRENCY,
        ),
    )


@cache
def store() -> MessageStore:
    settings = config.settings()
    return MessageStore(
        dynamodb(),
        settings.table_name,
        timedelta(days=settings.retention_days),
        tracking_window=settings.tracking_window,
    )


@cache
def tracker() -> Tracker:
    return Tracker(store(), registry.adapter, config.settings())


@cache
def recipients() -> Recipients:
    from textstatus.recipients import Recipients  # only the status API needs it

    return Recipients(registry.adapter, config.settings())


@cache
def poller() -> Poller:
    from textstatus.polling import Poller  # only the poller function needs it (and its thread pools)

    return Poller(tracker(), store(), config.settings())


@cache
def reports() -> Reports:
    from textstatus.reports import Reports  # only the status API needs it

    return Reports(store())


@cache
def subscriptions() -> SubscriptionStore:
    from textstatus.subscriptions import SubscriptionStore  # only the webhook functions need it

    return SubscriptionStore(dynamodb(), config.settings().table_name)


def reset() -> None:
    """Forget everything built (tests; the local stack after a settings change)."""
    for built in (dynamodb, store, tracker, recipients, poller, reports, subscriptions):
        built.cache_clear()
    registry.reset()
    config.reset()
