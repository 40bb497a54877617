"""Wunderkind callbacks: static-header authentication and parsing of its documented payload."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TEST_ENV
from tests.support.adapters import wunderkind_adapter
from tests.support.payloads import NOW
from textstatus.errors import CallbackAuthenticationError, ConfigurationError, InvalidCallbackError
from textstatus.providers.callbacks import CallbackRequest
from textstatus.providers.wunderkind import WunderkindSettings
from textstatus.status import Status

CALLBACK_ID = TEST_ENV["WUNDERKIND_CALLBACK_ID"]
CALLBACK_SECRET = TEST_ENV["WUNDERKIND_CALLBACK_SECRET"]
# The payload as Wunderkind's docs print it.
DOC_PAYLOAD = {
    "messageID": "540e8400-e29b-41d4-a716-446655440000",
    "status": "DELIVERED",
    "phone": "++11234567890",
    "email": "jane.doe@example.com",
    "callbackData": '{"key1":"value1","key2":"value2"}',
}


def request(headers: dict[str, str], body: bytes | None = None, method: str = "POST") -> CallbackRequest:
    return CallbackRequest(
        method=method,
        headers={name.lower(): value for name, value in headers.items()},
        query_values={},
        body=json.dumps(DOC_PAYLOAD).encode() if body is None else body,
    )


GOOD = {"X-Client-ID": CALLBACK_ID, "X-Client-Secret": CALLBACK_SECRET}


def test_the_configured_static_headers_authenticate() -> None:
    wunderkind_adapter().authenticate_callback(request(GOOD))


def test_header_names_are_case_insensitive() -> None:
    wunderkind_adapter().authenticate_callback(
        request({"x-client-id": CALLBACK_ID, "X-CLIENT-SECRET": CALLBACK_SECRET})
    )


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
        wunderkind_adapter().authenticate_callback(request(headers))
    assert CALLBACK_SECRET not in str(caught.value)


def test_custom_header_names_are_honoured_and_the_defaults_then_refused() -> None:
    custom = wunderkind_adapter(
        WUNDERKIND_CALLBACK_HEADER_ID="X-Hook-Key", WUNDERKIND_CALLBACK_HEADER_SECRET="X-Hook-Token"
    )
    custom.authenticate_callback(request({"X-Hook-Key": CALLBACK_ID, "X-Hook-Token": CALLBACK_SECRET}))
    with pytest.raises(CallbackAuthenticationError):
        custom.authenticate_callback(request(GOOD))


def test_unconfigured_callback_credentials_leave_the_provider_unconfigured() -> None:
    # Refused when the settings are read (the provider then answers 404 ProviderNotConfigured),
    # never a callback accepted without credentials to compare with.
    with pytest.raises(ConfigurationError, match="WUNDERKIND_CALLBACK_ID, WUNDERKIND_CALLBACK_SECRET"):
        WunderkindSettings.from_env({"WUNDERKIND_CLIENT_ID": "a", "WUNDERKIND_CLIENT_SECRET": "b"})


def test_the_documented_payload_becomes_one_observation_without_personal_data() -> None:
    parsed = wunderkind_adapter().parse_callback(request(GOOD), NOW)
    (observation,) = parsed.observations
    assert observation.message_id == DOC_PAYLOAD["messageID"]
    assert observation.status is Status.DELIVERED
    assert observation.provider_status == "DELIVERED"
    assert observation.event_at == NOW
    # The payload carries the recipient's phone number and email: neither reaches the observation.
    assert "1234567890" in DOC_PAYLOAD["phone"]
    assert "example" in DOC_PAYLOAD["email"]
    assert "1234567890" not in repr(observation)
    assert "example" not in repr(observation)
    assert DOC_PAYLOAD["phone"] not in repr(observation)
    assert DOC_PAYLOAD["email"] not in repr(observation)


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
        wunderkind_adapter().parse_callback(request(GOOD, body), NOW)


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
