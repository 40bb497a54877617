"""The Lambda SnapStart hooks (runtime.initialised): registered with the runtime's
`snapshot_restore_py` when it is there, priming what a first request needs before the snapshot,
and after each restore leaving nothing that must be fresh or unique: clients and connection pools,
cached secrets, the random seed. Simulated here: the hooks are called as the runtime calls them."""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.credentials import RefreshableCredentials

from tests.support.api import comapi_post
from tests.support.aws import table_items
from tests.support.payloads import comapi_envelope
from textstatus import config, runtime
from textstatus.providers import registry


@pytest.fixture
def lambda_runtime(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Callable[[], Any]]]:
    """A stand-in for the Lambda runtime's snapshot_restore_py: the hooks registered, by kind."""
    hooks: dict[str, list[Callable[[], Any]]] = {"before_snapshot": [], "after_restore": []}
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = hooks["before_snapshot"].append  # type: ignore[attr-defined]
    module.register_after_restore = hooks["after_restore"].append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return hooks


def test_the_hooks_are_registered_only_where_the_runtime_provides_them(
    lambda_runtime: dict[str, list[Callable[[], Any]]],
) -> None:
    runtime.initialised()
    assert lambda_runtime == {"before_snapshot": [runtime.prime], "after_restore": [runtime.restored]}


def test_without_the_lambda_runtime_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as outside Lambda
    runtime.initialised()  # does not raise


def test_priming_builds_the_clients_and_imports_every_adapter_but_reads_no_secret(
    aws: None, env: pytest.MonkeyPatch
) -> None:
    env.delenv("COMAPI_WEBHOOK_SECRET")
    env.setenv("COMAPI_WEBHOOK_SECRET_PARAMETER", "/textstatus/comapi/webhook-secret")  # not even created
    runtime.prime()
    assert runtime.dynamodb.cache_info().currsize == 1
    assert config._ssm.cache_info().currsize == 1
    for name in registry.PROVIDER_NAMES:
        assert f"textstatus.providers.{name}" in sys.modules


def test_after_a_restore_clients_connections_and_secrets_are_fresh(
    aws: None, callbacks: Any, lambda_runtime: dict[str, list[Callable[[], Any]]]
) -> None:
    runtime.initialised()
    for hook in reversed(lambda_runtime["before_snapshot"]):  # as Lambda runs them: last registered first
        hook()
    client, adapter = runtime.dynamodb(), registry.adapter("comapi")
    session = adapter.http.session
    ssm = config._ssm()  # secrets read (and cached) with an SSM client before the snapshot

    for hook in lambda_runtime["after_restore"]:  # in the order registered
        hook()

    assert runtime.dynamodb() is not client
    assert registry.adapter("comapi") is not adapter
    assert registry.adapter("comapi").http.session is not session
    assert config._ssm() is not ssm
    # The restored environment answers with its new client.
    code, answer = comapi_post(callbacks, comapi_envelope(event_id="evt-restored"))
    assert (code, answer["accepted"]) == (200, 1)
    assert any(item["sk"]["S"] == "STATUS" for item in table_items())


def test_environments_restored_from_one_snapshot_draw_different_random_numbers() -> None:
    draws = []
    for _ in range(2):
        random.seed(14)  # the state every environment restored from the snapshot starts with
        runtime.restored()
        draws.append(random.random())
    assert draws[0] != draws[1]


def test_the_boto3_session_is_kept_when_its_credentials_refresh_themselves(monkeypatch: pytest.MonkeyPatch) -> None:
    session = boto3.session.Session()
    refreshable = RefreshableCredentials.create_from_metadata(
        {"access_key": "a", "secret_key": "b", "token": "c", "expiry_time": "2099-01-01T00:00:00Z"},
        refresh_using=lambda: {},
        method="container-role",
    )
    monkeypatch.setattr(session, "get_credentials", lambda: refreshable)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    runtime.restored()
    assert boto3.DEFAULT_SESSION is session


def test_the_boto3_session_is_dropped_when_its_credentials_are_static(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3.session.Session())  # the tests' static keys
    runtime.restored()
    assert boto3.DEFAULT_SESSION is None
