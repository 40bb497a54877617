"""The HTTP contract shared by the API functions: resource models and the one error shape.

Domain errors carry no HTTP knowledge; this module maps them to responses, once, for every
function that serves HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
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
MAX_METADATA_ENTRIES = 20
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
MetadataValue = Annotated[str, StringConstraints(max_length=256)]


class RegisterRequest(_CamelModel):
    """Start tracking: one message by id, or every message in a provider's own send response."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    provider: str = Field(pattern=PROVIDER_PATTERN, examples=["wunderkind"])
    message_id: str | None = Field(None, pattern=MESSAGE_ID_PATTERN, examples=["f9eea82a-ce63-4dfa-ae8e-09b891f446cc"])
    reference: str | None = Field(None, pattern=REFERENCE_PATTERN, examples=["order-1234"])
    metadata: dict[MetadataKey, MetadataValue] | None = Field(None, max_length=MAX_METADATA_ENTRIES)
    send_response: dict[str, Any] | list[dict[str, Any]] | None = Field(
        None,
        description="The provider's own response to the send call, as received.",
        examples=[{"messageId": "f9eea82a-ce63-4dfa-ae8e-09b891f446cc"}],
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


class MessageList(BaseModel):
    messages: list[MessageStatus]


class CallbackAck(BaseModel):
    accepted: int
    duplicates: int
    ignored: int


def message_status(item: Item) -> MessageStatus:
    expires = datetime.fromtimestamp(int(item["expiresAt"]), UTC)
    return MessageStatus.model_validate({**item, "metadata": item.get("metadata", {}), "expiresAt": iso(expires)})


def message_event(item: Item) -> MessageEvent:
    return MessageEvent.model_validate(item)


# Errors --------------------------------------------------------------------------------

# Bodies larger than these are refused with 413 before anything reads them.
MAX_REQUEST_BYTES = 256 * 1024  # a registration: a batch send response of ~1,000 messages fits
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


class GatewayMessage(BaseModel):
    """What API Gateway itself answers before any function runs (a missing or wrong API key)."""

    message: str = Field(examples=["Forbidden"])


# The status routes need the API key (enforced by API Gateway's usage plan, named here for the docs).
API_KEY: list[dict[str, list[str]]] = [{"apiKey": []}]

ERROR_RESPONSES: dict[int, Any] = {
    status: {"description": status.phrase, "content": {"application/json": {"model": ErrorResponse}}}
    for status in (
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.NOT_FOUND,
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        HTTPStatus.UNPROCESSABLE_ENTITY,
        HTTPStatus.INTERNAL_SERVER_ERROR,
        HTTPStatus.SERVICE_UNAVAILABLE,
    )
}
# The status routes' answers: the errors above, and API Gateway's 403 for a missing or wrong key.
STATUS_ROUTE_RESPONSES: dict[int, Any] = {
    **ERROR_RESPONSES,
    HTTPStatus.FORBIDDEN: {
        "description": "Missing or wrong API key (answered by API Gateway)",
        "content": {"application/json": {"model": GatewayMessage}},
    },
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


def refuse_before_routing(event: Mapping[str, Any], max_bytes: int, json_only: bool = False) -> dict[str, Any] | None:
    """The API Gateway answer for a request refused on sight (too large, not JSON), else None."""
    body = event.get("body") or ""
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        status, code, message = (
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "PayloadTooLarge",
            f"bodies are limited to {max_bytes} bytes",
        )
    elif json_only and body and not _is_json(event):
        status, code, message = HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType", "send application/json"
    else:
        return None
    document = ErrorResponse(error=ErrorInfo(code=code, message=message, target="body"))
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": document.model_dump_json(),
        "isBase64Encoded": False,
    }


def _is_json(event: Mapping[str, Any]) -> bool:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    content_type = str(headers.get("content-type", "application/json")).split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")
