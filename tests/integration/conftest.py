"""Integration fixtures: the handlers on moto, and helpers to read the table directly."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from tests.conftest import TEST_ENV

CALLBACK_HEADERS = {
    "X-Client-ID": TEST_ENV["WUNDERKIND_CALLBACK_ID"],
    "X-Client-Secret": TEST_ENV["WUNDERKIND_CALLBACK_SECRET"],
}


def table_items() -> list[dict[str, Any]]:
    """Every item in the table (tests only: the service itself never scans)."""
    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": os.environ["TABLE_NAME"]}
    while True:
        page = client.scan(**params)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def status_api(aws: None) -> Any:
    from functions.status_api import app

    return app


@pytest.fixture
def callbacks(aws: None) -> Any:
    from functions.callbacks import app

    return app
