"""USAJOBS sends no callbacks: the adapter says so and the callbacks function answers 404."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.adapters import usajobs_adapter
from tests.support.aws import api_event, invoke, table_items
from textstatus.errors import CallbacksNotSupportedError
from textstatus.providers.callbacks import CallbackRequest


def test_usajobs_has_no_callbacks() -> None:
    adapter = usajobs_adapter()
    assert adapter.supports_callbacks is False
    with pytest.raises(CallbacksNotSupportedError):
        adapter.authenticate_callback(CallbackRequest("POST", {}, {}, b"{}"))


def test_usajobs_callbacks_are_not_supported(callbacks: Any) -> None:
    code, _, answer = invoke(callbacks, api_event("POST", "/v1/callbacks/usajobs", body={"responseId": "x"}))
    assert (code, answer["error"]["code"]) == (404, "CallbacksNotSupported")
    assert table_items() == []
