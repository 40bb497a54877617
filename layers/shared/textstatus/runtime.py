"""The wiring, built lazily once per cold start: boto3 client, stores, tracker, poller; and the
end of a function's init (`initialised`), with the Lambda SnapStart hooks.

Nothing is built at import time, so tests (moto) and the local stack can point the
DynamoDB client anywhere (AWS_ENDPOINT_URL_DYNAMODB) before the first request.
"""

from __future__ import annotations

import gc
import random
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
    """Forget everything built (tests; the local stack after a settings change; a SnapStart restore)."""
    for built in (dynamodb, store, tracker, recipients, poller, reports, subscriptions):
        built.cache_clear()
    registry.reset()
    config.reset()


def initialised() -> None:
    """The end of a function's init: the last line of each app module that uses this wiring.

    What init built (modules, models, the resolver's routes) lives as long as the process, so it is
    frozen out of the cyclic garbage collector's way (`gc.freeze`): otherwise the first full
    collection, which the first request's allocations (boto3's import, its client) trigger, walks
    every object of pydantic and Powertools: about 40 ms of a cold request (`make bench`).

    In the Lambda runtime, which provides `snapshot_restore_py`, it also registers the SnapStart
    hooks (they run only for a function whose published versions have SnapStart on):
    `prime` before the snapshot, `restored` after each restore.
    """
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:  # not in the Lambda runtime (tests, the local stack)
        pass
    else:
        register_before_snapshot(prime)
        register_after_restore(restored)
    gc.freeze()


def prime() -> None:
    """Before a SnapStart snapshot: what every first request needs, done once into the snapshot.
    boto3 is imported and its session loads the DynamoDB and SSM models (the clients themselves are
    rebuilt after the restore, from that session in milliseconds), the settings are read
    (`config.prime`) and every provider's adapter module is imported."""
    config.prime()
    dynamodb()
    for name in registry.PROVIDER_NAMES:
        registry.adapter_class(name)


def restored() -> None:
    """After a SnapStart restore, before the first request: nothing of the snapshot that must be
    unique or fresh is kept. One snapshot resumes many execution environments, minutes or days
    after it was taken:

    - clients and connection pools are dropped (DynamoDB's, SSM's, the provider adapters' HTTP
      sessions): a connection of the snapshot is stale, and shared by every environment restored
      from it; cached secrets go too (one may have been rotated while the snapshot waited);
    - `random` is reseeded from the OS: the jitter of backoffs must differ between environments;
    - boto3's default session is kept (it holds no connection, and rebuilding it costs 120 ms)
      unless its credentials cannot refresh themselves. Under SnapStart, Lambda gives the function
      container credentials, which botocore renews when they expire.
    """
    reset()
    random.seed()
    _drop_session_without_refreshable_credentials()


def _drop_session_without_refreshable_credentials() -> None:
    import boto3
    from botocore.credentials import RefreshableCredentials

    session = boto3.DEFAULT_SESSION
    if session is not None and not isinstance(session.get_credentials(), RefreshableCredentials):
        boto3.DEFAULT_SESSION = None
