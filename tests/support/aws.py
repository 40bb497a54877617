"""The AWS side of tests: the table, API Gateway events, invoking a handler, the local API."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from local.dynamodb import LocalDynamoDB
from local.gateway import LambdaContext, LocalGateway, function_url_event, proxy_event
from local.iam import Policies
from local.stack import free_port
from local.template import api_routes, table_definition
from textstatus.store.encoding import message_key


def create_table(name: str, client: Any | None = None) -> None:
    client = client or boto3.client("dynamodb")
    arguments, ttl_attribute = table_definition(name)
    client.create_table(**arguments)
    if ttl_attribute:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
        )


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


def expire_status(provider: str, message_id: str) -> None:
    """What TTL leaves behind until DynamoDB gets round to deleting it: an expired status item."""
    boto3.client("dynamodb").update_item(
        TableName=os.environ["TABLE_NAME"],
        Key=message_key(provider, message_id),
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": {"N": "1000"}},
    )


def api_event(
    method: str,
    path: str,
    *,
    body: bytes | str | dict[str, Any] | list[Any] | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The REST proxy event API Gateway sends for this request (the template's own route)."""
    route = next((r for r in api_routes() if r.method == method and r.pattern.match(path)), None)
    assert route is not None, f"no {method} {path} in template.yaml"
    return proxy_event(
        route,
        method,
        path,
        list((query or {}).items()),
        _json_headers(headers),
        _raw(body),
        api_key="test-key" if route.api_key_required else None,
    )


def url_event(
    method: str,
    path: str,
    *,
    body: bytes | str | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
) -> dict[str, Any]:
    """The event a Lambda function URL sends for this request (payload format 2.0)."""
    return function_url_event(method, path, query, _json_headers(headers), _raw(body))


def _raw(body: bytes | str | dict[str, Any] | list[Any] | None) -> bytes:
    """A test request's body as sent: bytes as given, text as UTF-8, anything else as JSON."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def _json_headers(headers: dict[str, str] | None) -> list[tuple[str, str]]:
    """JSON's Content-Type unless `headers` name another, then `headers`: one of each."""
    return list({"Content-Type": "application/json", **(headers or {})}.items())


def invoke(module: Any, event: dict[str, Any], timeout: int = 10) -> tuple[int, dict[str, Any], Any]:
    """Call a function's handler as Lambda would; returns status, headers and the JSON body."""
    result = module.lambda_handler(event, LambdaContext("test-function", timeout))
    body = result.get("body")
    headers = dict(result.get("headers") or {})
    headers.update({name: ", ".join(values) for name, values in (result.get("multiValueHeaders") or {}).items()})
    return result["statusCode"], headers, json.loads(body) if body else None


@contextmanager
def local_api(
    patch: pytest.MonkeyPatch, api_key: str, containers: int, policies: Policies | None = None
) -> Iterator[str]:
    """The template's API on the local gateway over the local DynamoDB server (real HTTP both
    ways), with the template's table, each function allowed only what its role allows (`policies`,
    by default the template's own); yields the API's base URL."""
    dynamodb = LocalDynamoDB(free_port()).start()
    patch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.url)
    create_table(os.environ["TABLE_NAME"], boto3.client("dynamodb"))
    policies = policies if policies is not None else Policies.from_template()
    gateway = LocalGateway("127.0.0.1", free_port(), api_key, containers=containers, policies=policies)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    host, port = gateway.server_address[:2]
    try:
        yield f"http://{host!s}:{port}"
    finally:
        gateway.shutdown()
        # moto's backends are per process, shared by every server it runs: leave no table behind
        # for the next local_api.
        boto3.client("dynamodb").delete_table(TableName=os.environ["TABLE_NAME"])
        dynamodb.stop()
