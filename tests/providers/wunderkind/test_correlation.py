"""Wunderkind's `callbackData` (the sender's JSON string, echoed in every callback) read as
correlation data: what becomes metadata, within the registration API's limits, and that no value
of it, however hostile, fails the callback or reaches a log line."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.support.adapters import wunderkind_adapter
from tests.support.metrics import counted
from tests.support.payloads import (
    CORRELATION_OBJECTS,
    NOW,
    WUNDERKIND_CALLBACK_HEADERS,
    WUNDERKIND_MESSAGE_ID,
    wunderkind_callback,
)
from textstatus.events import Correlation, Observation
from textstatus.providers.callbacks import CallbackRequest
from textstatus.status import Status

ABSENT = object()


def parsed(callback_data: Any) -> Observation:
    """The one observation of a DELIVERED callback carrying `callback_data` (ABSENT: no such field)."""
    body = wunderkind_callback("DELIVERED")
    if callback_data is ABSENT:
        del body["callbackData"]
    else:
        body["callbackData"] = callback_data
    headers = {name.lower(): value for name, value in WUNDERKIND_CALLBACK_HEADERS.items()}
    request = CallbackRequest("POST", headers, {}, json.dumps(body).encode())
    (observation,) = wunderkind_adapter().parse_callback(request, NOW).observations
    assert (observation.message_id, observation.status) == (WUNDERKIND_MESSAGE_ID, Status.DELIVERED)
    return observation


def test_the_documented_callback_data_becomes_the_correlation_metadata() -> None:
    observation = parsed('{"key1":"value1","key2":"value2"}')
    assert observation.correlation == Correlation({"key1": "value1", "key2": "value2"})
    assert counted("CorrelationDataDropped") == 0


@pytest.mark.parametrize(("given", "metadata", "dropped"), CORRELATION_OBJECTS.values(), ids=CORRELATION_OBJECTS.keys())
def test_callback_data_objects_within_the_metadata_limits(
    given: dict[str, Any], metadata: dict[str, str] | None, dropped: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    observation = parsed(json.dumps(given))
    assert observation.correlation == (Correlation(metadata) if metadata is not None else None)
    assert (counted("CorrelationDataDropped") > 0) is dropped
    warnings = [r for r in caplog.records if r.getMessage() == "correlation data dropped"]
    assert len(warnings) == (1 if dropped else 0)


@pytest.mark.parametrize(
    ("callback_data", "warned"),
    [
        (ABSENT, False),
        (None, False),
        ("", False),  # Wunderkind's docs: a dummy value when no callback data is needed
        ("   ", False),
        ("{}", False),
        (7, True),
        (True, True),
        ({"orderId": "order-1234"}, True),  # an object, not the documented JSON string
        (["orderId"], True),
        ("not json", True),
        ('{"orderId": "order-1234"', True),
        ('"order-1234"', True),
        ("[1, 2]", True),
        ("1234", True),
        ("null", True),
        ("[" * 100_000 + "]" * 100_000, True),
        ('{"orderId": ' + "9" * 10_000 + "}", True),
    ],
    ids=[
        "absent",
        "null",
        "empty",
        "blank",
        "empty-object",
        "number",
        "boolean",
        "object",
        "list",
        "not-json",
        "truncated-json",
        "json-string",
        "json-array",
        "json-number",
        "json-null",
        "nested-100000",
        "integer-10000-digits",
    ],
)
def test_callback_data_that_is_no_object_keeps_nothing_and_never_fails_the_callback(
    callback_data: Any, warned: bool
) -> None:
    assert parsed(callback_data).correlation is None
    assert counted("CorrelationDataDropped") == (1 if warned else 0)


def test_values_and_the_phone_and_email_never_reach_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret_value = "jane.doe@example.com-" + "s" * 300
    observation = parsed(json.dumps({"orderId": "order-1234", "email": secret_value, "bad key": "hidden-value"}))
    assert observation.correlation == Correlation({"orderId": "order-1234"})
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert "email" in logged  # the key and why it was dropped are logged
    for value in (secret_value[:20], "hidden-value", "+15551230000", "order-1234"):
        assert value not in logged
