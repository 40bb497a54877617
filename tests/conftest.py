"""Fixtures shared by every test: a safe environment, moto, the table from template.yaml."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from local.iam import Recorder
    from local.simulators.base import Simulator
    from local.simulators.comapi import ComapiSimulator
    from local.simulators.govdelivery import GovdeliverySimulator
    from local.simulators.usajobs import UsajobsSimulator
    from local.simulators.wunderkind import WunderkindSimulator

# Set before anything imports boto3 or Powertools. Provider URLs point at a closed
# loopback port, so a test that forgets its simulator fails instead of calling out.
TEST_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_SERVICE_NAME": "textstatus",
    "POWERTOOLS_METRICS_NAMESPACE": "TextStatus",
    "POWERTOOLS_DEV": "false",
    "TABLE_NAME": "textstatus-test",
    "USAJOBS_BASE_URL": "http://127.0.0.1:9",
    "USAJOBS_API_KEY": "usajobs-test-api-key-8f3e",
    "COMAPI_BASE_URL": "http://127.0.0.1:9",
    "COMAPI_API_SPACE_ID": "a5f3c3c2-1f4e-4b8e-9d7a-test-space",
    "COMAPI_TOKEN": "comapi-test-jwt-eyJhbGciOi",
    "COMAPI_WEBHOOK_SECRET": "comapi-webhook-secret-71c0",
    "GOVDELIVERY_BASE_URL": "http://127.0.0.1:9",
    "GOVDELIVERY_TOKEN": "govdelivery-test-token-1234567890",
    "GOVDELIVERY_CALLBACK_TOKEN": "govdelivery-callback-token-b8d2",
    "WUNDERKIND_BASE_URL": "http://127.0.0.1:9",
    "WUNDERKIND_CLIENT_ID": "wk-test-client-id-0123456789abcdef",
    "WUNDERKIND_CLIENT_SECRET": "wk-test-client-secret-0123456789abcdef0123456789abcdef",
    "WUNDERKIND_CALLBACK_ID": "wk-callback-id-5f2c",
    "WUNDERKIND_CALLBACK_SECRET": "wk-callback-secret-9d41e7",
}
os.environ.update(TEST_ENV)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("AWS_ENDPOINT_URL", None)


def _atomic_moto() -> None:
    # DynamoDB applies each request atomically; moto in-process does not across threads.
    from local.dynamodb import make_moto_atomic

    make_moto_atomic()


_atomic_moto()


# Every AWS call a function makes in any test, checked at the end of the session against the
# function's role in the transformed template (local.iam): moto does not check IAM.
AWS_CALLS: Recorder | None = None


@pytest.fixture(scope="session", autouse=True)
def _record_aws_calls() -> Iterator[None]:
    """Record the AWS calls made while a function's handler runs, attributed to that function.

    Each function module's lambda_handler is wrapped for the session (tests call them directly, or
    through the local gateway, whose FunctionHost attributes its own copies); calls made outside
    a handler (creating tables, reading items back) belong to no function."""
    global AWS_CALLS
    import importlib

    from local import iam, template

    recorder = iam.Recorder()
    wrapped = []
    for function in template.functions().values():
        module = importlib.import_module(function.module)
        handler = getattr(module, function.handler)
        if getattr(handler, "__textstatus_function__", None) is None:
            setattr(module, function.handler, iam.attributed(function.logical_id, handler))
            wrapped.append((module, function.handler, handler))
    AWS_CALLS = recorder
    with iam.recording(recorder):
        yield
    for module, name, handler in wrapped:
        setattr(module, name, handler)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a function made a call its role in the transformed template does not allow."""
    if AWS_CALLS is None or not AWS_CALLS.calls:
        return
    from local import iam, sam

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    try:
        denied = iam.Policies.from_template().check_all(AWS_CALLS.calls)
        problems = [str(d) for d in denied]
    except (sam.TransformError, iam.UnresolvableError) as exc:
        problems = [f"the IAM check could not run: {exc}"]
    functions = sorted({call.function for call in AWS_CALLS.calls})
    if reporter is not None:
        reporter.write_sep("-", f"IAM: {len(AWS_CALLS.calls)} distinct AWS calls by {', '.join(functions)}")
        for problem in problems:
            reporter.write_line(f"IAM DENIED: {problem}", red=True)
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change settings for one test; every cached setting and client is rebuilt around it."""
    from textstatus import runtime

    runtime.reset()
    yield monkeypatch
    runtime.reset()


@pytest.fixture
def aws(env: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process with the table created from template.yaml's own definition."""
    from moto import mock_aws

    from tests.support.aws import create_table

    with mock_aws():
        create_table(os.environ["TABLE_NAME"])
        yield


@pytest.fixture
def status_api(aws: None) -> Any:
    """The status API function's module, on moto."""
    from functions.status_api import app

    return app


@pytest.fixture
def callbacks(aws: None) -> Any:
    """The callbacks function's module, on moto."""
    from functions.callbacks import app

    return app


@pytest.fixture(autouse=True)
def _clear_powertools_state() -> Iterator[None]:
    yield
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    from textstatus.observability import metrics

    metrics.clear_metrics()


def _running[SimulatorT: Simulator](simulator_class: type[SimulatorT], env: pytest.MonkeyPatch) -> Iterator[SimulatorT]:
    """A provider simulator on a free loopback port, fast, with that provider's adapter pointed at it."""
    simulator = simulator_class.from_settings(TEST_ENV, step_seconds=0.05, tick_seconds=0.02).start()
    env.setenv(f"{simulator_class.name.upper()}_BASE_URL", simulator.url)
    yield simulator
    simulator.stop()


@pytest.fixture
def wunderkind_sim(env: pytest.MonkeyPatch) -> Iterator[WunderkindSimulator]:
    from local.simulators.wunderkind import WunderkindSimulator

    yield from _running(WunderkindSimulator, env)


@pytest.fixture
def usajobs_sim(env: pytest.MonkeyPatch) -> Iterator[UsajobsSimulator]:
    from local.simulators.usajobs import UsajobsSimulator

    yield from _running(UsajobsSimulator, env)


@pytest.fixture
def comapi_sim(env: pytest.MonkeyPatch) -> Iterator[ComapiSimulator]:
    from local.simulators.comapi import ComapiSimulator

    yield from _running(ComapiSimulator, env)


@pytest.fixture
def govdelivery_sim(env: pytest.MonkeyPatch) -> Iterator[GovdeliverySimulator]:
    from local.simulators.govdelivery import GovdeliverySimulator

    yield from _running(GovdeliverySimulator, env)
