"""A Lambda function URL's request (payload format 2.0) as the REST API's proxy event, and the
REST answer as the function URL's.

The callbacks are served both by the REST API and by a function URL (no per-request charge).
Converting the URL's event keeps one code path for both: the same resolver, the same checks
before routing, the same validation and error shape. (Powertools' LambdaFunctionUrlResolver
would need every route, and the checks that read the REST event, registered a second time.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote


def is_function_url_event(event: Mapping[str, Any]) -> bool:
    context = event.get("requestContext")
    return event.get("version") == "2.0" and isinstance(context, Mapping) and isinstance(context.get("http"), Mapping)


Route = tuple[str, re.Pattern[str]]


def routes(resources: Iterable[str]) -> list[Route]:
    """The routes' paths as API Gateway names them (/v1/callbacks/{provider}), each with the pattern
    of the paths it takes, literal paths before those with parameters (built once per resolver)."""
    ordered = sorted(set(resources), key=lambda resource: (resource.count("{"), resource))
    return [
        (resource, re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(resource)) + "$"))
        for resource in ordered
    ]


def rest_event(event: Mapping[str, Any], known: Sequence[Route]) -> dict[str, Any]:
    """The REST proxy event for a function URL request: the first of the `known` routes that
    matches the path is the event's `resource` and gives its path parameters (none matches: the
    resolver answers 404)."""
    context = event["requestContext"]
    http = context["http"]
    path = str(event.get("rawPath") or http.get("path") or "/")
    resource, parameters = _match(path, known)
    # A function URL joins repeated headers with commas and lower-cases their names.
    headers = {str(name): str(value) for name, value in (event.get("headers") or {}).items()}
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(str(event.get("rawQueryString") or ""), keep_blank_values=True):
        multi_query.setdefault(name, []).append(value)
    return {
        "resource": resource,
        "path": path,
        # As given: HTTP methods are case-sensitive, and the API answers `post` 404 as well.
        "httpMethod": str(http.get("method") or ""),
        "headers": headers or None,
        "multiValueHeaders": {name: [value] for name, value in headers.items()} or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": context.get("accountId"),
            "apiId": context.get("apiId"),
            "resourcePath": resource,
            "httpMethod": str(http.get("method") or ""),
            "requestId": context.get("requestId"),
            "path": path,
            "stage": "$default",
            "protocol": http.get("protocol"),
            "domainName": context.get("domainName"),
            "requestTimeEpoch": context.get("timeEpoch"),
            "identity": {"sourceIp": http.get("sourceIp"), "userAgent": http.get("userAgent")},
        },
        "body": event.get("body"),
        "isBase64Encoded": bool(event.get("isBase64Encoded")),
    }


def url_response(result: Mapping[str, Any]) -> dict[str, Any]:
    """The REST answer as a function URL answer: one `headers` map (a function URL ignores
    `multiValueHeaders`; repeated values are joined with commas, as HTTP allows)."""
    headers = {str(name): str(value) for name, value in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ", ".join(str(value) for value in values)
    return {
        "statusCode": int(result.get("statusCode", 200)),
        "headers": headers,
        "body": result.get("body") or "",
        "isBase64Encoded": bool(result.get("isBase64Encoded")),
    }


def _match(path: str, known: Sequence[Route]) -> tuple[str, dict[str, str] | None]:
    for resource, pattern in known:
        found = pattern.match(path)
        if found:
            return resource, {name: unquote(value) for name, value in found.groupdict().items()} or None
    return path, None
