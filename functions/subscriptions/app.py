"""Webhook subscriptions: register, list, read, delete, rotate the secret, recent deliveries."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from textstatus import api, config, errors, runtime
from textstatus.clock import utcnow
from textstatus.observability import count, logger, metrics
from textstatus.subscriptions import SubscriptionFilter, TargetRefusedError, check_target
from textstatus.subscriptions import models as m

app = api.Resolver(api.MAX_REQUEST_BYTES, json_bodies=True)

SubscriptionId = Annotated[str, Path(pattern=m.SUBSCRIPTION_ID_PATTERN, description="The subscription's id")]


class SubscriptionNotFoundError(errors.MessageNotFoundError):
    code = "SubscriptionNotFound"
    target = "id"


def _not_found() -> SubscriptionNotFoundError:
    return SubscriptionNotFoundError("no subscription with this id")


def _refused_target(exc: TargetRefusedError) -> Response[Any]:
    # A URL we will not call is a valid request we cannot accept: 422, like the schema's refusals.
    return api.error_response(HTTPStatus.UNPROCESSABLE_ENTITY, exc.code, exc.message, exc.target)


app.exception_handler(TargetRefusedError)(_refused_target)

NOT_FOUND: dict[int, Any] = {
    HTTPStatus.NOT_FOUND: {
        "description": "Not Found: no such subscription (`SubscriptionNotFound`, target `id`) "
        "or route (`RouteNotFound`)",
        "content": {"application/json": {"model": api.ErrorResponse}},
    }
}
REFUSED_TARGET: dict[int, Any] = {
    HTTPStatus.UNPROCESSABLE_ENTITY: {
        "description": "Unprocessable Entity: the request breaks the schema (`ValidationError`, an unknown provider "
        "or status in the filter), or the URL is not one we call (`TargetRefused`, target `url`: only https to a "
        "host whose every address is public; no credentials in the URL)",
        "content": {"application/json": {"model": api.ErrorResponse}},
    }
}


@app.post(
    "/v1/subscriptions",
    status_code=201,
    responses=api.documented(
        201,
        m.CreatedSubscription,
        "The subscription, with its signing secret (shown only here)",
        {**api.STATUS_ROUTE_RESPONSES, **REFUSED_TARGET},
    ),
    tags=["subscriptions"],
    security=api.API_KEY,
)
def create_subscription(request: m.CreateSubscription) -> m.CreatedSubscription:
    """Register a webhook: every matching status change is POSTed to it, signed (Standard Webhooks)."""
    check_target(request.url, config.settings().webhooks_allow_loopback)
    subscription_filter = request.filter.to_filter() if request.filter else SubscriptionFilter()
    subscription, secret = runtime.subscriptions().create(request.url, request.description, subscription_filter)
    logger.append_keys(subscription_id=subscription.id)
    logger.info("subscription created")
    count("SubscriptionCreated")
    return m.CreatedSubscription(**m.subscription_resource(subscription).model_dump(), secret=secret)


@app.get(
    "/v1/subscriptions",
    responses=api.documented(200, m.SubscriptionList, "Every subscription (no secrets)", api.STATUS_ROUTE_RESPONSES),
    tags=["subscriptions"],
    security=api.API_KEY,
)
def list_subscriptions() -> m.SubscriptionList:
    """Every subscription, without secrets."""
    return m.SubscriptionList(subscriptions=[m.subscription_resource(s) for s in runtime.subscriptions().list()])


@app.get(
    "/v1/subscriptions/<id>",
    responses=api.documented(
        200, m.SubscriptionResource, "The subscription (no secret)", {**api.STATUS_ROUTE_RESPONSES, **NOT_FOUND}
    ),
    tags=["subscriptions"],
    security=api.API_KEY,
)
def get_subscription(id: SubscriptionId) -> m.SubscriptionResource:  # noqa: A002 - the path's own name
    """One subscription, without its secret."""
    subscription = runtime.subscriptions().get(id)
    if subscription is None:
        raise _not_found()
    return m.subscription_resource(subscription)


@app.delete(
    "/v1/subscriptions/<id>",
    responses={
        204: {"description": "Deleted: no further deliveries"},
        **api.STATUS_ROUTE_RESPONSES,
        **NOT_FOUND,
    },
    tags=["subscriptions"],
    security=api.API_KEY,
)
def delete_subscription(id: SubscriptionId) -> Response[None]:  # noqa: A002
    """Delete a subscription: deliveries stop (its recent delivery records stay readable until they expire)."""
    if not runtime.subscriptions().delete(id):
        raise _not_found()
    logger.append_keys(subscription_id=id)
    logger.info("subscription deleted")
    return Response(status_code=HTTPStatus.NO_CONTENT)


@app.post(
    "/v1/subscriptions/<id>/rotate-secret",
    responses=api.documented(
        200, m.RotatedSecret, "The new signing secret (shown only here)", {**api.STATUS_ROUTE_RESPONSES, **NOT_FOUND}
    ),
    tags=["subscriptions"],
    security=api.API_KEY,
)
def rotate_secret(id: SubscriptionId) -> m.RotatedSecret:  # noqa: A002
    """A new signing secret. For 24 hours deliveries carry a signature with each, so receivers can switch."""
    secret = runtime.subscriptions().rotate_secret(id, utcnow())
    if secret is None:
        raise _not_found()
    logger.append_keys(subscription_id=id)
    logger.info("subscription secret rotated")
    return m.RotatedSecret(secret=secret)


@app.get(
    "/v1/subscriptions/<id>/deliveries",
    responses=api.documented(
        200, m.DeliveryList, "Recent delivery attempts, newest first", {**api.STATUS_ROUTE_RESPONSES, **NOT_FOUND}
    ),
    tags=["subscriptions"],
    security=api.API_KEY,
)
def list_deliveries(
    id: SubscriptionId,  # noqa: A002
    limit: Annotated[
        int, Query(ge=1, le=m.MAX_DELIVERIES, description="The most attempts to return")
    ] = m.MAX_DELIVERIES,
) -> m.DeliveryList:
    """The recent delivery attempts (kept 30 days), newest first; a deleted subscription's too,
    while they are kept (they are evidence of what was sent)."""
    store = runtime.subscriptions()
    attempts = store.deliveries(id, limit)
    if not attempts and store.get(id) is None:
        raise _not_found()
    return m.DeliveryList(deliveries=[m.delivery_resource(a) for a in attempts])


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


runtime.initialised()  # the end of init: see runtime.initialised (the SnapStart hooks, gc.freeze)
