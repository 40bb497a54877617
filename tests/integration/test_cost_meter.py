"""The cost meter (`make cost`, bench/cost.py) counts what DynamoDB bills, on cases checked by hand:
the template's table on moto, requests made with boto3 as the handlers make them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bench.cost import Meter, Usage, item_size

KEY = {"pk": {"S": "MSG#wunderkind#m-1"}, "sk": {"S": "STATUS"}}
# 71 bytes by DynamoDB's rules: names + values (pk 2+18, sk 2+6, status 6+7, dueShard 8+1,
# nextPollAt 10+11): one write unit, and it carries due-index's key (dueShard, nextPollAt).
DUE = {**KEY, "status": {"S": "sending"}, "dueShard": {"S": "3"}, "nextPollAt": {"S": "2026-11-22T"}}


@pytest.fixture
def metered(aws: None) -> Iterator[tuple[Any, Usage]]:
    meter = Meter(os.environ["TABLE_NAME"])
    meter.install()
    try:
        with meter.tagged("test") as usage:
            yield boto3.client("dynamodb"), usage
    finally:
        meter.uninstall()


def test_item_size_is_names_plus_values() -> None:
    assert item_size(DUE) == 71
    assert item_size({"n": {"N": "-12.50"}}) == 1 + 3  # 3 significant digits: 2 bytes, plus 1
    assert item_size({"m": {"M": {"a": {"S": "xy"}}}}) == 1 + 3 + (1 + 2 + 1)
    assert item_size({"t": {"SS": ["ab", "c"]}}) == 1 + 3


def test_a_put_of_an_item_with_the_index_key_is_one_write_unit_and_one_index_put(metered: Any) -> None:
    client, usage = metered
    client.put_item(TableName=os.environ["TABLE_NAME"], Item=DUE)
    assert usage.write_units == 1
    assert usage.index_writes == {"due-index put": 1}
    assert usage.index_write_units == 1
    assert usage.requests == {"dynamodb:PutItem": 1}


def test_a_failed_conditional_put_still_costs_its_units_and_writes_no_index(metered: Any) -> None:
    client, usage = metered
    big = {**KEY, "detail": {"S": "x" * 1100}}  # 2 + 18 + 2 + 6 + 6 + 1100 = 1134 bytes: 2 units
    client.put_item(TableName=os.environ["TABLE_NAME"], Item=DUE)
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        client.put_item(TableName=os.environ["TABLE_NAME"], Item=big, ConditionExpression="attribute_not_exists(pk)")
    assert usage.write_units == 1 + 2
    assert usage.failed_writes == 1
    assert usage.index_writes == {"due-index put": 1}


def test_an_update_that_moves_the_index_key_is_a_delete_and_a_put(metered: Any) -> None:
    client, usage = metered
    table = os.environ["TABLE_NAME"]
    client.put_item(TableName=table, Item=DUE)
    client.update_item(
        TableName=table, Key=KEY, UpdateExpression="SET nextPollAt = :n", ExpressionAttributeValues={":n": {"S": "z"}}
    )
    client.update_item(
        TableName=table, Key=KEY, UpdateExpression="SET note = :n", ExpressionAttributeValues={":n": {"S": "a"}}
    )
    client.update_item(TableName=table, Key=KEY, UpdateExpression="REMOVE dueShard, nextPollAt")
    # put; delete + put (key moved); nothing (note is not projected); delete (left the index)
    assert usage.index_writes == {"due-index put": 2, "due-index delete": 2}
    assert usage.write_units == 4


def test_reads_and_transactions(metered: Any) -> None:
    client, usage = metered
    table = os.environ["TABLE_NAME"]
    client.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": DUE}}])
    assert usage.write_units == 2  # transactions double
    client.get_item(TableName=table, Key=KEY)
    assert usage.read_units == 0.5  # eventually consistent: half a unit
    client.get_item(TableName=table, Key=KEY, ConsistentRead=True)
    assert usage.read_units == 1.5
