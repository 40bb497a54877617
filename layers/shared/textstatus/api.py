"""The HTTP contract shared by the API functions: resource models and the one error shape.

Domain errors carry no HTTP knowledge; this module maps them to responses, once, for every
function that serves HTTP.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any, Self

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from textstatus import errors
from textstatus.clock import iso
from textstatus.events import MESSAGE_ID_PATTERN, REFERENCE_PATTERN
from textstatus.observability import logger
from textstatus.store import Item


class _CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ErrorDetail(BaseModel):
    code: str
    message: str
    target: str | None = None


class ErrorInfo(BaseModel):
    code: str = Field(examples=["MessageNotFound"])
    message: str = Field(examples=["no wunderkind message with this id is tracked here or known to the provider"])
    target: str | None = Field(None, examples=["messageId"])
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """Every error, on every route, has this shape."""

    error: ErrorInfo


class MessageStatus(_CamelModel):
    """The current, normalized status of one message."""

    provider: str = Field(examples=["wunderkind"])
    message_id: str = Field(examples=["f9eea82a-ce63-4dfa-ae8e-09b891f446cc"])
    status: str = Field(examples=["delivered"])
    final: bool
    reason: str | None = None
    provider_status: str | None = Field(None, examples=["DELIVERED"])
    provider_detail: str | None = None
    segments: dict[str, int] | None = None
    recipients: dict[str, int] | None = None
    reference: str | None = Field(None, examples=["order-1234"])
    metadata: dict[str, str] = Field(default_factory=dict)
    source: str = Field(examples=["callback"])
    provider_event_at: str | None = None
    created_at: str
    updated_at: str
    last_polled_at: str | None = None
    next_poll_at: str | None = None
    expires_at: str
    version: int


class MessageEvent(_CamelModel):
    """One report about a message: a callback, a poll, a lookup, a registration or a deadline."""

    event_id: str
    source: str = Field(examples=["callback"])
    status: str | None = Field(None, description="The normalized status; null when the provider's word is unknown.")
    reason: str | None = None
    provider_status: str | None = Field(None, examples=["DELIVERED"])
    provider_detail: str | None = None
    provider_event_at: str
    received_at: str
    changed_status: bool


class MessageHistory(_CamelModel):
    provider: str
    message_id: str
    events: list[MessageEvent]


PROVIDER_PATTERN = r"^[a-z]{1,32}$"
MAX_REFERENCE_LENGTH = 256
MAX_METADATA_ENTRIES = 20
# A batch send response (Comapi's) names at most this many messages: each one is a conditional
# write in one transaction, and a request must finish well inside the function's timeout.
MAX_MESSAGES_PER_REGISTRATION = 100
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
MetadataValue = Annotated[str, StringConstraints(max_length=256)]


class RegisterRequest(_CamelModel):
    """Start tracking: one message by id, or every message in a provider's own send response."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    provider: str = Field(pattern=PROVIDER_PATTERN, examples=["wunderkind"])
    message_id: str | None = Field(None, pattern=MESSAGE_ID_PATTERN, examples=["f9eea82a-ce63-4dfa-ae8e-09b891f446cc"])
    reference: str | None = Field(
        None, pattern=REFERENCE_PATTERN, min_length=1, max_length=MAX_REFERENCE_LENGTH, examples=["order-1234"]
    )
    metadata: dict[MetadataKey, MetadataValue] | None = Field(None, max_length=MAX_METADATA_ENTRIES)
    send_response: dict[str, Any] | Annotated[list[Any], Field(max_length=MAX_MESSAGES_PER_REGISTRATION)] | None = (
        Field(
            None,
            description=(
                "The provider's own response to the send call, as received "
                f"(a batch names at most {MAX_MESSAGES_PER_REGISTRATION} messages)."
            ),
            examples=[{"messageId": "f9eea82a-ce63-4dfa-ae8e-09b891f446cc"}],
        )
    )

    @model_validator(mode="after")
    def _one_way_to_name_messages(self) -> Self:
        if (self.message_id is None) == (self.send_response is None):
            raise ValueError("give exactly one of messageId and sendResponse")
        return self


class TrackedMessage(MessageStatus):
    new: bool = Field(description="True when this request started tracking the message.")


class TrackedMessages(BaseModel):
    messages: list[TrackedMessage]
    ignored: list[str] = Field(
        default_factory=list,
        description="Elements of a batch send response that name no usable message, each with why; "
        "the others are tracked all the same.",
        examples=[["item 3: no valid messageId"]],
    )


class MessageList(_CamelModel):
    """One page of the messages with a reference, oldest first."""

    messages: list[MessageStatus]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null when there are no more messages."
    )


class CallbackAck(BaseModel):
    accepted: int
    duplicates: int
    ignored: int


def message_status(item: Item) -> MessageStatus:
    expires = datetime.fromtimestamp(int(item["expiresAt"]), UTC)
    return MessageStatus.model_validate({**item, "metadata": item.get("metadata", {}), "expiresAt": iso(expires)})


def message_event(item: Item) -> MessageEvent:
    return MessageEvent.model_validate(item)


# Paging --------------------------------------------------------------------------------

MAX_PAGE_SIZE = 100
MAX_CURSOR_LENGTH = 1024  # a cursor names a reference (256), a message id (128), a provider and a time
_CURSOR_KEYS = ("createdAt", "messageId", "provider", "reference")
_CURSOR_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")
_CURSOR_PATTERNS = {
    "createdAt": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z"),
    "messageId": re.compile(MESSAGE_ID_PATTERN),
    "provider": re.compile(PROVIDER_PATTERN),
    "reference": re.compile(REFERENCE_PATTERN),
}


def encode_cursor(item: Mapping[str, Any]) -> str:
    """An opaque cursor that starts the next page after this message: base64url (unpadded) of
    the message's place in the reference index, as compact JSON with sorted keys."""
    document = {key: str(item[key]) for key in _CURSOR_KEYS}
    raw = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, reference: str) -> dict[str, str]:
    """The message a cursor starts after; 400 (target `cursor`) for anything `encode_cursor`
    did not hand out for this reference: not base64url, not the JSON it writes (byte for byte),
    other keys, values out of shape, or another reference's cursor."""
    invalid = errors.InvalidRequestError("the cursor is not one this listing handed out", target="cursor")
    if not _CURSOR_CHARACTERS.fullmatch(cursor):
        raise invalid
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise invalid from None
    if not isinstance(document, dict) or sorted(document) != list(_CURSOR_KEYS):
        raise invalid
    if not all(isinstance(value, str) and _CURSOR_PATTERNS[key].fullmatch(value) for key, value in document.items()):
        raise invalid
    if encode_cursor(document) != cursor:
        raise invalid
    if document["reference"] != reference:
        raise errors.InvalidRequestError("the cursor belongs to another reference", target="cursor")
    return document


# Errors --------------------------------------------------------------------------------

# Bodies larger than these are refused with 413 before anything reads them.
MAX_REQUEST_BYTES = 256 * 1024  # a registration: a batch send response of 100 messages fits many times over
MAX_CALLBACK_BYTES = 1024 * 1024  # a callback: a batched Comapi webhook of 1,000 events fits

_STATUS_BY_ERROR: list[tuple[type[errors.TextStatusError], HTTPStatus]] = [
    (errors.UnknownProviderError, HTTPStatus.NOT_FOUND),
    (errors.MessageNotFoundError, HTTPStatus.NOT_FOUND),
    (errors.CallbacksNotSupportedError, HTTPStatus.NOT_FOUND),
    (errors.CallbackAuthenticationError, HTTPStatus.UNAUTHORIZED),
    (errors.InvalidCallbackError, HTTPStatus.BAD_REQUEST),
    (errors.InvalidRequestError, HTTPStatus.BAD_REQUEST),
    (errors.StorageUnavailableError, HTTPStatus.SERVICE_UNAVAILABLE),
    (errors.ProviderUnavailableError, HTTPStatus.SERVICE_UNAVAILABLE),
    (errors.ProviderError, HTTPStatus.BAD_GATEWAY),
]


# The status routes need the API key (enforced by API Gateway's usage plan, named here for the docs).
API_KEY: list[dict[str, list[str]]] = [{"apiKey": []}]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": ErrorResponse}}}


# What every route can answer, from its function or from API Gateway before any function runs
# (API Gateway's own answers have the same shape: the template's GatewayResponses).
ERROR_RESPONSES: dict[int, Any] = {
    HTTPStatus.BAD_REQUEST: _error(
        "Bad Request (`BadRequest`): a body that is not UTF-8 or is nested too deeply, an unknown query "
        "parameter, a bad cursor or send response; `target` names the part"
    ),
    HTTPStatus.NOT_FOUND: _error(
        "Not Found: no such route or method (`RouteNotFound`), provider (`ProviderNotFound`, "
        "`ProviderNotConfigured`) or message (`MessageNotFound`)"
    ),
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: _error(
        "Payload Too Large (`PayloadTooLarge`): the body is over the route's limit (answered by the function, "
        "or by API Gateway beyond its own)"
    ),
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: _error("Unsupported Media Type (`UnsupportedMediaType`): send application/json"),
    HTTPStatus.UNPROCESSABLE_ENTITY: _error(
        "Unprocessable Entity (`ValidationError`): the request breaks the schema; `details` names each part"
    ),
    HTTPStatus.TOO_MANY_REQUESTS: _error(
        "Too Many Requests (`TooManyRequests`, or `QuotaExceeded` when the API key's quota is spent): "
        "throttled by API Gateway"
    ),
    HTTPStatus.INTERNAL_SERVER_ERROR: _error("Internal Server Error (`InternalError`): details are in the logs"),
    HTTPStatus.BAD_GATEWAY: _error("Bad Gateway (`BadGateway`): the function failed (answered by API Gateway)"),
    HTTPStatus.SERVICE_UNAVAILABLE: _error(
        "Service Unavailable (`ServiceUnavailable`, `ProviderUnavailable`, `ProviderThrottled`): "
        "storage or the provider is unavailable; retry after `Retry-After` seconds"
    ),
    HTTPStatus.GATEWAY_TIMEOUT: _error(
        "Gateway Timeout (`GatewayTimeout`): the function did not answer in time (answered by API Gateway)"
    ),
}
# The status routes' answers: the errors above, and API Gateway's 403 for a missing or wrong key.
STATUS_ROUTE_RESPONSES: dict[int, Any] = {
    **ERROR_RESPONSES,
    HTTPStatus.FORBIDDEN: _error(
        "Forbidden (`Forbidden`, target `x-api-key`): missing or wrong API key (answered by API Gateway)"
    ),
}
# A route that asks a provider during the request can also answer 502 itself.
PROVIDER_BAD_GATEWAY: dict[int, Any] = {
    HTTPStatus.BAD_GATEWAY: _error(
        "Bad Gateway: the provider refused our request (`ProviderRejectedRequest`) or answered something "
        "unreadable (`ProviderBadResponse`); or the function failed (`BadGateway`, answered by API Gateway)"
    ),
}


def documented(
    status: int, model: type[BaseModel], description: str, errors: dict[int, Any] = ERROR_RESPONSES
) -> dict[int, Any]:
    """A route's responses for the OpenAPI document: its success, and the errors it can answer."""
    return {status: {"description": description, "content": {"application/json": {"model": model}}}, **errors}


def error_response(
    status: HTTPStatus,
    code: str,
    message: str,
    target: str | None = None,
    details: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    body = ErrorResponse(error=ErrorInfo(code=code, message=message, target=target, details=details or []))
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump_json(),
        headers=headers,
    )


def _domain_error(exc: errors.TextStatusError) -> Response[Any]:
    status = next((code for kind, code in _STATUS_BY_ERROR if isinstance(exc, kind)), HTTPStatus.INTERNAL_SERVER_ERROR)
    if status == HTTPStatus.INTERNAL_SERVER_ERROR:
        # Not the caller's fault and not transient (settings refused at start, AWS refusing a
        # request): someone has to act, so error level.
        logger.error("request failed", extra={"error": type(exc).__name__, "detail": exc.message})
    elif status >= 500:
        logger.warning("request failed", extra={"error": exc.code, "detail": exc.message})
    if status == HTTPStatus.INTERNAL_SERVER_ERROR:
        # Configuration problems are for the logs, not for callers.
        return error_response(status, "InternalError", "the service could not handle this request")
    headers = {}
    if isinstance(exc, errors.ProviderThrottledError):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    elif status == HTTPStatus.SERVICE_UNAVAILABLE:
        headers["Retry-After"] = "5"
    return error_response(status, exc.code, exc.message, exc.target, headers=headers or None)


def _validation_error(exc: RequestValidationError) -> Response[Any]:
    details = [
        ErrorDetail(
            code=str(error.get("type", "invalid")),
            message=str(error.get("msg", "invalid value")),
            target=".".join(str(part) for part in error.get("loc", ())),
        )
        for error in exc.errors()
    ]
    return error_response(
        HTTPStatus.UNPROCESSABLE_ENTITY, "ValidationError", "the request is not valid", details=details
    )


def _unsupported_content_type(_: RequestUnsupportedContentType) -> Response[Any]:
    return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType", "send application/json")


def _not_utf8(_: UnicodeDecodeError) -> Response[Any]:
    # A JSON body that is not UTF-8 fails while the resolver decodes it, before any of our code.
    return error_response(HTTPStatus.BAD_REQUEST, "BadRequest", "the body is not UTF-8", target="body")


def _too_deep(_: RecursionError) -> Response[Any]:
    # Raised by the JSON parser on absurdly nested input, before any of our code runs.
    return error_response(HTTPStatus.BAD_REQUEST, "BadRequest", "the body is nested too deeply", target="body")


def _route_not_found(_: NotFoundError) -> Response[Any]:
    return error_response(HTTPStatus.NOT_FOUND, "RouteNotFound", "no such route")


def _unexpected(exc: Exception) -> Response[Any]:
    logger.exception("unhandled error")
    return error_response(
        HTTPStatus.INTERNAL_SERVER_ERROR, "InternalError", "the service could not handle this request"
    )


def configure_openapi(app: APIGatewayRestResolver) -> None:
    """What every function's part of the OpenAPI document shares: the API key scheme.

    Called when the document is generated, not at cold start (the models cost ~50 ms to import).
    """
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    app.configure_openapi(
        title="textstatus",
        version="1.0.0",
        # `in` is a keyword, so the model is built from its JSON field names.
        security_schemes={"apiKey": APIKey.model_validate({"name": "x-api-key", "in": APIKeyIn.header})},
    )


def install_error_handlers(app: APIGatewayRestResolver) -> None:
    """Map every error to the documented shape: domain errors, validation, unknown routes, bugs."""
    app.exception_handler(errors.TextStatusError)(_domain_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(RequestUnsupportedContentType)(_unsupported_content_type)
    app.exception_handler(RecursionError)(_too_deep)
    app.exception_handler(UnicodeDecodeError)(_not_utf8)
    app.not_found(_route_not_found)
    app.exception_handler(Exception)(_unexpected)


def any_query_parameters[H: Callable[..., Any]](handler: H) -> H:
    """Mark a route whose query string is not ours to police (a provider's callback URL)."""
    handler.__dict__["_any_query_parameters"] = True
    return handler


class Resolver(APIGatewayRestResolver):
    """The REST resolver every function serving HTTP uses: validation, the one error shape, and the
    checks every request passes before routing, in this one place so no route can forget them:

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
            return register(handler)

        return remember

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        return self.refused(event) or super().resolve(event, context)

    def refused(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """The answer for a request refused on sight, else None."""
        method = str(event.get("httpMethod") or "").upper()
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
            if not event.get("isBase64Encoded") and _holds_unreadable_value(body):
                return _refusal(
                    HTTPStatus.BAD_REQUEST, "BadRequest", "the body holds a number too long to read", "body"
                )
        allowed = self._query_parameters(method, str(event.get("resource") or ""))
        given = event.get("multiValueQueryStringParameters") or event.get("queryStringParameters") or {}
        unknown = sorted(set(given) - allowed) if allowed is not None else []
        if unknown:
            return _refusal(
                HTTPStatus.BAD_REQUEST,
                "BadRequest",
                f"unknown query parameter(s): {', '.join(map(repr, unknown))}",
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


def _refusal(status: HTTPStatus, code: str, message: str, target: str) -> dict[str, Any]:
    document = ErrorResponse(error=ErrorInfo(code=code, message=message, target=target))
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": document.model_dump_json(),
        "isBase64Encoded": False,
    }


def _holds_unreadable_value(body: str) -> bool:
    """True for JSON that parses but holds a value Python refuses to read (an integer of more
    than 4,300 digits raises a plain ValueError, which would otherwise be a 500). Malformed JSON
    is left to the request validation (422), nesting too deep to its RecursionError handler."""
    try:
        json.loads(body)
    except json.JSONDecodeError:
        return False
    except ValueError:
        return True
    except RecursionError:
        return False
    return False


def _is_json(event: Mapping[str, Any]) -> bool:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    content_type = str(headers.get("content-type", "application/json")).split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")
