"""The resolver every function serving HTTP uses, with the checks every request passes first."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

from textstatus.api import function_url
from textstatus.api.errors import ErrorInfo, ErrorResponse, install_error_handlers

# Bodies larger than these are refused with 413 before anything reads them.
MAX_REQUEST_BYTES = 256 * 1024  # a registration: a batch send response of 100 messages fits many times over
MAX_CALLBACK_BYTES = 1024 * 1024  # a callback: a batched Comapi webhook of 1,000 events fits


def any_query_parameters[H: Callable[..., Any]](handler: H) -> H:
    """Mark a route whose query string is not ours to police (a provider's callback URL)."""
    handler.__dict__["_any_query_parameters"] = True
    return handler


class Resolver(APIGatewayRestResolver):
    """The REST resolver every function serving HTTP uses: validation, the one error shape, and the
    checks every request passes before routing, in this one place so no route can forget them:

    - a method not in upper case is 404 `RouteNotFound` (methods are case-sensitive);
    - a body over `max_body_bytes` is 413 `PayloadTooLarge`;
    - with `json_bodies`, a POST/PUT/PATCH body that is not JSON is 415 `UnsupportedMediaType`;
    - a query parameter the route does not declare (as a `Query` parameter of its handler) is
      400 `BadRequest`, target `query`, unless the handler is marked `any_query_parameters`.

    They run before the request validation (which parses the body), so Powertools middlewares,
    which run after it, cannot hold them.
    """

    def __init__(self, max_body_bytes: int, json_bodies: bool = False) -> None:
        super().__init__(enable_validation=True)
        self._max_body_bytes = max_body_bytes
        self._json_bodies = json_bodies
        self._handlers: dict[tuple[str, str], Callable[..., Any]] = {}
        self._allowed_query: dict[tuple[str, str], frozenset[str] | None] = {}
        self._url_routes: list[function_url.Route] | None = None  # built on the first function URL request
        install_error_handlers(self)

    def route[H: Callable[..., Any]](
        self, rule: str, method: str | list[str] | tuple[str], *args: Any, **kwargs: Any
    ) -> Callable[[H], H]:
        register = super().route(rule, method, *args, **kwargs)
        # API Gateway names the route it matched in the event's `resource`: /a/{b}, not /a/<b>.
        resource = re.sub(r"<(\w+)>", r"{\1}", rule)

        def remember(handler: H) -> H:
            for each in (method,) if isinstance(method, str) else method:
                self._handlers[(each.upper(), resource)] = handler
            self._url_routes = None
            return register(handler)

        return remember

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        if function_url.is_function_url_event(event):
            # A Lambda function URL's request: served as the same route's REST request.
            if self._url_routes is None:
                self._url_routes = function_url.routes(resource for _, resource in self._handlers)
            rest = function_url.rest_event(event, self._url_routes)
            return function_url.url_response(self.refused(rest) or super().resolve(rest, context))
        return self.refused(event) or super().resolve(event, context)

    def refused(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """The answer for a request refused on sight, else None."""
        given_method = str(event.get("httpMethod") or "")
        if given_method != given_method.upper():
            # HTTP methods are case-sensitive: API Gateway has no route for `post` (Powertools
            # would match it as POST), so neither door has one.
            return _refusal(HTTPStatus.NOT_FOUND, "RouteNotFound", "no such route", None)
        method = given_method
        body = event.get("body") or ""
        size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode("utf-8", "surrogatepass"))
        if size > self._max_body_bytes:
            return _refusal(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "PayloadTooLarge",
                f"bodies are limited to {self._max_body_bytes} bytes",
                "body",
            )
        if self._json_bodies and body and method in {"POST", "PUT", "PATCH"}:
            if not _is_json(event):
                return _refusal(
                    HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType", "send application/json", "body"
                )
            problem = None if event.get("isBase64Encoded") else _body_problem(body)
            if problem is not None:
                return _refusal(*problem, "body")
        allowed = self._query_parameters(method, str(event.get("resource") or ""))
        given = event.get("multiValueQueryStringParameters") or event.get("queryStringParameters") or {}
        unknown = sorted(set(given) - allowed) if allowed is not None else []
        if unknown:
            return _refusal(
                HTTPStatus.BAD_REQUEST,
                "BadRequest",
                f"unknown query parameter(s): {_names(unknown)}",
                "query",
            )
        return None

    def _query_parameters(self, method: str, resource: str) -> frozenset[str] | None:
        """The query parameters the route declares; None when any goes (or no route matches:
        the resolver answers 404 `RouteNotFound`)."""
        key = (method, resource)
        if key not in self._allowed_query:
            handler = self._handlers.get(key)
            if handler is None or getattr(handler, "_any_query_parameters", False):
                self._allowed_query[key] = None
            else:
                from aws_lambda_powertools.event_handler.openapi.dependant import get_dependant

                dependant = get_dependant(path=resource, call=handler)
                self._allowed_query[key] = frozenset(field.alias for field in dependant.query_params)
        return self._allowed_query[key]


# An error names at most this many of the parameters it refuses: the caller sets how many there are.
MAX_NAMES_IN_ERROR = 10


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(name[:64]) for name in names[:MAX_NAMES_IN_ERROR])
    more = len(names) - MAX_NAMES_IN_ERROR
    return f"{shown} and {more} more" if more > 0 else shown


def _refusal(status: HTTPStatus, code: str, message: str, target: str | None) -> dict[str, Any]:
    document = ErrorResponse(error=ErrorInfo(code=code, message=message, target=target))
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": document.model_dump_json(),
        "isBase64Encoded": False,
    }


def _body_problem(body: str) -> tuple[HTTPStatus, str, str] | None:
    """Why a JSON body is refused before validation, or None.

    JSON that parses but holds a value Python refuses to read (an integer of more than 4,300
    digits raises a plain ValueError, which would otherwise be a 500) is a 400. A body that is JSON
    but not an object (the resolver would quietly read an array's first element) is a 422.
    Malformed JSON is left to the request validation (422), nesting too deep to its handler (400).
    """
    try:
        document = json.loads(body)
    except json.JSONDecodeError:
        return None
    except ValueError:
        return HTTPStatus.BAD_REQUEST, "BadRequest", "the body holds a number too long to read"
    except RecursionError:
        return None
    if not isinstance(document, dict):
        return HTTPStatus.UNPROCESSABLE_ENTITY, "ValidationError", "the body must be a JSON object"
    return None


def _is_json(event: Mapping[str, Any]) -> bool:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    content_type = str(headers.get("content-type", "application/json")).split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")
