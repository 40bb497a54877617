"""Wunderkind callbacks: static-header authentication and parsing of its documented payload."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from textstatus.errors import CallbackAuthenticationError, ConfigurationError, InvalidCallbackError
from textstatus.providers.callbacks import CallbackRequest
from textstatus.providers.http import HttpSettings
from textstatus.providers.wunderkind import WunderkindAdapter, WunderkindSettings
from textstatus.status import Status

NOW = datetime(2026, 11, 22, 10, 0, 3, tzinfo=UTC)
CALLBACK_ID = "miu39r98mjrys73upzi9l4kqfbxxxxxx"
CALLBACK_SECRET = "oj07v6m137t1uhuf4w2c4dglvi093xahdb2unrrydlrxkxxxxxxxxxxx"
# The payload as Wunderkind's docs print it.
DOC_PAYLOAD = {
    "messageID": "540e8400-e29b-41d4-a716-446655440000",
    "status": "DELIVERED",
    "phone": "++11234567890",
    "email": "[email protected]",
    "callbackData": '{"key1":"value1","key2":"value2"}',
}


def adapter(**overrides: str) -> WunderkindAdapter:
    env = {
        "WUNDERKIND_CLIENT_ID": "client-id",
        "WUNDERKIND_CLIENT_SECRET": "client-secret",
        "WUNDERKIND_CALLBACK_ID": CALLBACK_ID,
        "WUNDERKIND_CALLBACK_SECRET": CALLBACK_SECRET,
        **overrides,
    }
    return WunderkindAdapter(WunderkindSettings.from_env(env), HttpSettings(1, 1, 1))


def request(headers: dict[str, str], body: bytes | None = None, method: str = "POST") -> CallbackRequest:
    return CallbackRequest(
        method=method,
        headers={name.lower(): value for name, value in headers.items()},
        query_values={},
        body=json.dumps(DOC_PAYLOAD).encode() if body is None else body,
    )


GOOD = {"X-Client-ID": CALLBACK_ID, "X-Client-Secret": CALLBACK_SECRET}


def test_the_configured_static_headers_authenticate() -> None:
    adapter().authenticate_callback(request(GOOD))


def test_header_names_are_case_insensitive() -> None:
    adapter().authenticate_callback(request({"x-client-id": CALLBACK_ID, "X-CLIENT-SECRET": CALLBACK_SECRET}))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Client-ID": CALLBACK_ID},
        {"X-Client-Secret": CALLBACK_SECRET},
        {"X-Client-ID": CALLBACK_ID, "X-Client-Secret": CALLBACK_SECRET[:-1]},
        {"X-Client-ID": CALLBACK_ID, "X-Client-Secret": CALLBACK_SECRET + "x"},
        {"X-Client-ID": "wrong", "X-Client-Secret": CALLBACK_SECRET},
        {"X-Client-ID": CALLBACK_SECRET, "X-Client-Secret": CALLBACK_ID},
        {"X-Client-ID": "", "X-Client-Secret": ""},
    ],
    ids=["none", "id-only", "secret-only", "secret-short", "secret-long", "wrong-id", "swapped", "empty"],
)
def test_missing_or_wrong_credentials_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(CallbackAuthenticationError) as caught:
        adapter().authenticate_callback(request(headers))
    assert CALLBACK_SECRET not in str(caught.value)


def test_custom_header_names_are_honoured_and_the_defaults_then_refused() -> None:
    custom = adapter(WUNDERKIND_CALLBACK_HEADER_ID="X-Hook-Key", WUNDERKIND_CALLBACK_HEADER_SECRET="X-Hook-Token")
    custom.authenticate_callback(request({"X-Hook-Key": CALLBACK_ID, "X-Hook-Token": CALLBACK_SECRET}))
    with pytest.raises(CallbackAuthenticationError):
        custom.authenticate_callback(request(GOOD))


def test_unconfigured_callback_credentials_leave_the_provider_unconfigured() -> None:
    # Refused when the settings are read (the provider then answers 404 ProviderNotConfigured),
    # never a callback accepted without credentials to compare with.
    with pytest.raises(ConfigurationError, match="WUNDERKIND_CALLBACK_ID, WUNDERKIND_CALLBACK_SECRET"):
        WunderkindSettings.from_env({"WUNDERKIND_CLIENT_ID": "a", "WUNDERKIND_CLIENT_SECRET": "b"})


def test_the_documented_payload_becomes_one_observation_without_personal_data() -> None:
    parsed = adapter().parse_callback(request(GOOD), NOW)
    (observation,) = parsed.observations
    assert observation.message_id == DOC_PAYLOAD["messageID"]
    assert observation.status is Status.DELIVERED
    assert observation.provider_status == "DELIVERED"
    assert observation.event_at == NOW
    assert "1234567890" not in repr(observation)
    assert "example" not in repr(observation)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'["DELIVERED"]',
        b'{"status": "DELIVERED"}',
        b'{"messageID": "", "status": "DELIVERED"}',
        b'{"messageID": "../../etc/passwd", "status": "DELIVERED"}',
        b'{"messageID": "540e8400", "status": ""}',
        b'{"messageID": "540e8400", "status": 7}',
        b"\xff\xfe{}",
    ],
)
def test_a_malformed_payload_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidCallbackError):
        adapter().parse_callback(request(GOOD, body), NOW)


def test_the_secret_never_appears_in_the_settings_repr() -> None:
    settings = WunderkindSettings.from_env(
        {
            "WUNDERKIND_CLIENT_ID": "a",
            "WUNDERKIND_CLIENT_SECRET": "b",
            "WUNDERKIND_CALLBACK_ID": "c",
            "WUNDERKIND_CALLBACK_SECRET": CALLBACK_SECRET,
        }
    )
    assert CALLBACK_SECRET not in repr(settings)
    assert CALLBACK_SECRET not in str(settings.model_dump())
