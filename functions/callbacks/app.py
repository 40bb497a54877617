"""Provider callbacks: authenticate, parse, store. 5xx only when storage fails, so providers retry."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from textstatus import api, runtime
from textstatus.errors import InvalidCallbackError, TextStatusError
from textstatus.observability import logger, metrics, publish
from textstatus.providers.base import CallbackRequest

# Every route: bodies up to MAX_CALLBACK_BYTES, in whatever type the provider sends.
app = api.Resolver(api.MAX_CALLBACK_BYTES)

Provider = Annotated[str, Path(pattern=api.PROVIDER_PATTERN, description="usajobs, comapi, govdelivery or wunderkind")]


@app.route(
    "/v1/callbacks/<provider>",
    method=["POST", "PUT"],
    responses=api.documented(
        200,
        api.CallbackAck,
        "Taken in (accepted, duplicates and ignored events counted)",
        {
            # Any content type is taken (each provider sends its own): no 415 here.
            **{status: answer for status, answer in api.ERROR_RESPONSES.items() if status != 415},
            **api.PROVIDER_BAD_GATEWAY,  # GovDelivery's callbacks are confirmed by a fetch from TMS
            400: api.ERROR_RESPONSES[400]
            | {
                "description": "Bad Request (`InvalidCallback`): a body that is not the provider's callback (not "
                "UTF-8, not JSON or a form as the provider sends, nested too deeply, or missing what names the "
                "message and its status); `PUT` from a provider other than Wunderkind (target `method`)"
            },
            401: api.ERROR_RESPONSES[400] | {"description": "Unauthorized (`Unauthorized`): bad callback credentials"},
        },
    ),
    tags=["callbacks"],
)
# The query string is the provider's (GovDelivery's ?token=): refusing a real callback loses it.
@api.any_query_parameters
def receive_callback(provider: Provider) -> api.CallbackAck:
    """A provider's status callback (PUT for Wunderkind only), in the provider's own shape, authenticated
    per provider: Comapi's `X-Comapi-Signature` (HMAC-SHA1 of the raw body), GovDelivery's `?token=` in
    the URL (form-encoded or JSON fields), Wunderkind's two static headers. The query string is the
    provider's and is not checked for unknown parameters. Also served by the callbacks' Lambda function
    URL (`CallbackUrl*` outputs), with the same answers."""
    logger.append_keys(provider=provider)
    event = app.current_event
    request = CallbackRequest(
        method=event.http_method.upper(),
        headers=_headers(event.multi_value_headers or {name: [value] for name, value in (event.headers or {}).items()}),
        query_values={name: list(values) for name, values in (event.multi_value_query_string_parameters or {}).items()},
        body=_raw_body(event.body, bool(event.is_base64_encoded)),
    )
    try:
        result = runtime.tracker().receive_callback(provider, request)
    except TextStatusError as exc:
        publish({"provider": provider, "reason": exc.code}, {"CallbacksRejected": 1})
        raise
    publish(
        {"provider": provider},
        {
            "CallbacksAccepted": result.accepted,
            "CallbacksDuplicate": result.duplicates,
            "CallbacksIgnored": result.ignored,
        },
    )
    return api.CallbackAck(**asdict(result))


def _headers(given: dict[str, list[str]]) -> dict[str, str]:
    """The headers by lower-case name, a repeated header's values joined by commas: what a function
    URL hands over, so both doors check the same credentials (a wrong copy of a credential header
    beside the right one is refused at both, never read as whichever copy came last)."""
    joined: dict[str, list[str]] = {}
    for name, values in given.items():
        joined.setdefault(name.lower(), []).extend(values)
    return {name: ",".join(values) for name, values in joined.items()}


def _raw_body(body: str | None, base64_encoded: bool) -> bytes:
    """The exact bytes the provider sent: signatures are computed over them."""
    if body is None:
        return b""
    if not base64_encoded:
        return body.encode("utf-8")
    import base64  # API Gateway base64-encodes only binary bodies: rare for callbacks
    import binascii

    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidCallbackError("the body is not valid base64") from None


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


runtime.initialised()  # the end of init: see runtime.initialised (the SnapStart hooks, gc.freeze)
