"""The one error shape, and every error mapped to it once for every function that serves HTTP.

Domain errors carry no HTTP knowledge; this module maps them to responses.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from pydantic import BaseModel, Field

from textstatus import errors
from textstatus.observability import logger


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


_STATUS_BY_ERROR: list[tuple[type[errors.TextStatusError], HTTPStatus]] = [
    (errors.UnknownProviderError, HTTPStatus.NOT_FOUND),
    (errors.MessageNotFoundError, HTTPStatus.NOT_FOUND),
    (errors.CallbacksNotSupportedError, HTTPStatus.NOT_FOUND),
    (errors.RecipientsNotSupportedError, HTTPStatus.NOT_FOUND),
    (errors.CallbackAuthenticationError, HTTPStatus.UNAUTHORIZED),
    (errors.InvalidCallbackError, HTTPStatus.BAD_REQUEST),
    (errors.InvalidRequestError, HTTPStatus.BAD_REQUEST),
    (errors.StorageUnavailableError, HTTPStatus.SERVICE_UNAVAILABLE),
    (errors.ReportTooLargeError, HTTPStatus.SERVICE_UNAVAILABLE),
    (errors.ProviderUnavailableError, HTTPStatus.SERVICE_UNAVAILABLE),
    (errors.ProviderError, HTTPStatus.BAD_GATEWAY),
]


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


def install_error_handlers(app: APIGatewayRestResolver) -> None:
    """Map every error to the documented shape: domain errors, validation, unknown routes, bugs."""
    app.exception_handler(errors.TextStatusError)(_domain_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(RequestUnsupportedContentType)(_unsupported_content_type)
    app.exception_handler(RecursionError)(_too_deep)
    app.exception_handler(UnicodeDecodeError)(_not_utf8)
    app.not_found(_route_not_found)
    app.exception_handler(Exception)(_unexpected)
