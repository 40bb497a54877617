"""The client API: a message's status and history, registration, lookup by reference."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from textstatus import api, runtime
from textstatus.events import MESSAGE_ID_PATTERN, REFERENCE_PATTERN
from textstatus.observability import logger, metrics

# Every route: bodies up to MAX_REQUEST_BYTES, JSON only, and only its declared query parameters.
app = api.Resolver(api.MAX_REQUEST_BYTES, json_bodies=True)

Provider = Annotated[str, Path(pattern=api.PROVIDER_PATTERN, description="usajobs, comapi, govdelivery or wunderkind")]
MessageId = Annotated[str, Path(pattern=MESSAGE_ID_PATTERN, description="The provider's id of the message")]


@app.get(
    "/v1/messages/<provider>/<messageId>",
    responses=api.documented(
        200, api.MessageStatus, "The current status", {**api.STATUS_ROUTE_RESPONSES, **api.PROVIDER_BAD_GATEWAY}
    ),
    tags=["messages"],
    security=api.API_KEY,
)
def get_message_status(
    provider: Provider,
    messageId: MessageId,  # noqa: N803 - the path's own name
    refresh: Annotated[bool, Query(description="Ask the provider before answering")] = False,
) -> api.MessageStatus:
    """The current status. A message unknown here is looked up at the provider once and stored."""
    logger.append_keys(provider=provider, message_id=messageId)
    return api.message_status(runtime.tracker().status(provider, messageId, refresh=refresh))


@app.get(
    "/v1/messages/<provider>/<messageId>/events",
    responses=api.documented(200, api.MessageHistory, "The history, newest first", api.STATUS_ROUTE_RESPONSES),
    tags=["messages"],
    security=api.API_KEY,
)
def get_message_events(provider: Provider, messageId: MessageId) -> api.MessageHistory:  # noqa: N803
    """Every callback, poll, lookup and registration event, newest first."""
    logger.append_keys(provider=provider, message_id=messageId)
    events = runtime.tracker().history(provider, messageId)
    return api.MessageHistory(provider=provider, message_id=messageId, events=[api.message_event(e) for e in events])


@app.post(
    "/v1/messages",
    status_code=201,
    responses=api.documented(201, api.TrackedMessages, "The tracked messages", api.STATUS_ROUTE_RESPONSES),
    tags=["messages"],
    security=api.API_KEY,
)
def register_messages(request: api.RegisterRequest) -> api.TrackedMessages:
    """Start tracking messages (idempotent): by id, or from the provider's own send response."""
    logger.append_keys(provider=request.provider)
    tracker = runtime.tracker()
    ignored: list[str] = []
    if request.message_id is not None:
        registrations = [tracker.register(request.provider, request.message_id, request.reference, request.metadata)]
    else:
        named = tracker.register_send_response(
            request.provider, request.send_response, request.reference, request.metadata
        )
        registrations, ignored = named.registrations, named.ignored
    return api.TrackedMessages(
        messages=[
            api.TrackedMessage(**api.message_status(r.record).model_dump(), new=r.created) for r in registrations
        ],
        ignored=ignored,
    )


@app.get(
    "/v1/messages",
    responses=api.documented(
        200, api.MessageList, "One page of the messages with that reference", api.STATUS_ROUTE_RESPONSES
    ),
    tags=["messages"],
    security=api.API_KEY,
)
def list_messages_by_reference(
    reference: Annotated[
        str,
        Query(
            pattern=REFERENCE_PATTERN,
            min_length=1,
            max_length=api.MAX_REFERENCE_LENGTH,
            description="The client reference given at registration",
        ),
    ],
    limit: Annotated[
        int, Query(ge=1, le=api.MAX_PAGE_SIZE, description="The most messages in one page")
    ] = api.MAX_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=api.MAX_CURSOR_LENGTH,
            description="The `nextCursor` of the previous page (opaque); none for the first page",
        ),
    ] = None,
) -> api.MessageList:
    """The messages registered with a client reference, oldest first, a page at a time."""
    after = api.decode_cursor(cursor, reference) if cursor is not None else None
    items, more = runtime.tracker().by_reference(reference, limit, after)
    return api.MessageList(
        messages=[api.message_status(item) for item in items],
        next_cursor=api.encode_cursor(items[-1]) if more and items else None,
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


runtime.initialised()  # the end of init: see runtime.initialised (the SnapStart hooks, gc.freeze)
