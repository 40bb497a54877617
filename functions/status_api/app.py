"""The client API: a message's status, history and recipients, registration, lookup by reference, the
outcomes report."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from textstatus import api, reports, runtime
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


@app.get(
    "/v1/messages/<provider>/<messageId>/recipients",
    responses={
        **api.documented(
            200,
            api.RecipientList,
            "Part of the recipient list, as the provider reports it now",
            {
                **api.STATUS_ROUTE_RESPONSES,
                **api.PROVIDER_BAD_GATEWAY,
                404: api.ERROR_RESPONSES[404]
                | {
                    "description": "Not Found: no such route (`RouteNotFound`), provider (`ProviderNotFound`, "
                    "`ProviderNotConfigured`), a provider whose messages have one recipient "
                    "(`RecipientsNotSupported`), or a message the provider does not know (`MessageNotFound`)"
                },
            },
        ),
        202: {
            "description": "The provider is still building the list: ask again after `Retry-After` seconds",
            "content": {"application/json": {"model": api.RecipientListPending}},
        },
    },
    tags=["messages"],
    security=api.API_KEY,
)
def get_message_recipients(
    provider: Provider,
    messageId: MessageId,  # noqa: N803 - the path's own name
    status: Annotated[
        api.RecipientStatusFilter | None, Query(description="Only the recipients with this provider status")
    ] = None,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=api.MAX_CURSOR_LENGTH,
            description="The `nextCursor` of the previous answer (opaque); none for the start of the list",
        ),
    ] = None,
) -> Response[api.RecipientList | api.RecipientListPending]:
    """A GovDelivery message's recipients, read from TMS now (never stored), a page at a time.
    Other providers' messages have one recipient each: 404 `RecipientsNotSupported`."""
    logger.append_keys(provider=provider, message_id=messageId)
    word = status.value if status is not None else None
    page = api.decode_recipients_cursor(cursor, messageId, word) if cursor is not None else 1
    remaining = app.lambda_context.get_remaining_time_in_millis
    found = runtime.recipients().page(provider, messageId, word, page, remaining)
    if found.retry_after is not None:
        wait = max(1, round(found.retry_after))
        pending = api.RecipientListPending(provider=provider, message_id=messageId, retry_after=wait)
        return Response(HTTPStatus.ACCEPTED, content_types.APPLICATION_JSON, pending, {"Retry-After": str(wait)})
    return Response(
        HTTPStatus.OK,
        content_types.APPLICATION_JSON,
        api.RecipientList(
            provider=provider,
            message_id=messageId,
            recipients=[api.message_recipient(r) for r in found.recipients],
            next_cursor=api.encode_recipients_cursor(messageId, word, found.next_page) if found.next_page else None,
        ),
    )


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
            description="The client reference given at registration, or taken from the message's "
            "correlation data (the entry named by REFERENCE_KEY)",
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


@app.get(
    "/v1/reports/outcomes",
    responses=api.documented(200, api.OutcomesReport, "The report", api.REPORT_ROUTE_RESPONSES),
    tags=["reports"],
    security=api.API_KEY,
)
def get_outcomes_report(
    provider: Annotated[
        str, Query(pattern=api.PROVIDER_PATTERN, description="usajobs, comapi, govdelivery or wunderkind")
    ],
    from_: Annotated[
        str,
        Query(
            alias="from",
            pattern=reports.TIME_PATTERN,
            description="The window's start (included): ISO 8601 with its offset, e.g. 2026-11-01T00:00:00Z",
        ),
    ],
    to: Annotated[
        str,
        Query(
            pattern=reports.TIME_PATTERN,
            description="The window's end (excluded), after `from` and at most 31 days from it",
        ),
    ],
) -> api.OutcomesReport:
    """What became of the messages of one provider created in a window: counts per status and reason,
    the delivered share, the time to a final status, and the messages still without one."""
    logger.append_keys(provider=provider)
    start, end = reports.window(from_, to)
    context = app.lambda_context
    report = runtime.reports().outcomes(provider, start, end, context.get_remaining_time_in_millis)
    return api.outcomes_report(report)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


runtime.initialised()  # the end of init: see runtime.initialised (the SnapStart hooks, gc.freeze)
