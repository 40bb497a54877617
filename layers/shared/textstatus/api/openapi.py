"""What the OpenAPI document says every route can answer, and the API key scheme."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver
from pydantic import BaseModel

from textstatus.api.errors import ErrorResponse

# The status routes need the API key (enforced by API Gateway's usage plan, named here for the docs).
API_KEY: list[dict[str, list[str]]] = [{"apiKey": []}]


def error_answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": ErrorResponse}}}


# What every route can answer, from its function or from API Gateway before any function runs
# (API Gateway's own answers have the same shape: the template's GatewayResponses).
ERROR_RESPONSES: dict[int, Any] = {
    HTTPStatus.BAD_REQUEST: error_answer(
        "Bad Request (`BadRequest`): a body that is not UTF-8 or is nested too deeply, an unknown query "
        "parameter, a bad cursor or send response; `target` names the part"
    ),
    HTTPStatus.NOT_FOUND: error_answer(
        "Not Found: no such route or method (`RouteNotFound`), provider (`ProviderNotFound`, "
        "`ProviderNotConfigured`) or message (`MessageNotFound`)"
    ),
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: error_answer(
        "Payload Too Large (`PayloadTooLarge`): the body is over the route's limit (answered by the function, "
        "or by API Gateway beyond its own)"
    ),
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: error_answer(
        "Unsupported Media Type (`UnsupportedMediaType`): send application/json"
    ),
    HTTPStatus.UNPROCESSABLE_ENTITY: error_answer(
        "Unprocessable Entity (`ValidationError`): the request breaks the schema; `details` names each part"
    ),
    HTTPStatus.TOO_MANY_REQUESTS: error_answer(
        "Too Many Requests (`TooManyRequests`, or `QuotaExceeded` when the API key's quota is spent): "
        "throttled by API Gateway"
    ),
    HTTPStatus.INTERNAL_SERVER_ERROR: error_answer("Internal Server Error (`InternalError`): details are in the logs"),
    HTTPStatus.BAD_GATEWAY: error_answer("Bad Gateway (`BadGateway`): the function failed (answered by API Gateway)"),
    HTTPStatus.SERVICE_UNAVAILABLE: error_answer(
        "Service Unavailable (`ServiceUnavailable`, `ProviderUnavailable`, `ProviderThrottled`): "
        "storage or the provider is unavailable; retry after `Retry-After` seconds"
    ),
    HTTPStatus.GATEWAY_TIMEOUT: error_answer(
        "Gateway Timeout (`GatewayTimeout`): the function did not answer in time (answered by API Gateway)"
    ),
}
# The status routes' answers: the errors above, and API Gateway's 403 for a missing or wrong key.
STATUS_ROUTE_RESPONSES: dict[int, Any] = {
    **ERROR_RESPONSES,
    HTTPStatus.FORBIDDEN: error_answer(
        "Forbidden (`Forbidden`, target `x-api-key`): missing or wrong API key (answered by API Gateway)"
    ),
}
# A route that asks a provider during the request can also answer 502 itself.
PROVIDER_BAD_GATEWAY: dict[int, Any] = {
    HTTPStatus.BAD_GATEWAY: error_answer(
        "Bad Gateway: the provider refused our request (`ProviderRejectedRequest`) or answered something "
        "unreadable (`ProviderBadResponse`); or the function failed (`BadGateway`, answered by API Gateway)"
    ),
}


def documented(
    status: int, model: type[BaseModel], description: str, errors: dict[int, Any] = ERROR_RESPONSES
) -> dict[int, Any]:
    """A route's responses for the OpenAPI document: its success, and the errors it can answer."""
    return {status: {"description": description, "content": {"application/json": {"model": model}}}, **errors}


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
