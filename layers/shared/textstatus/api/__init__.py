"""The HTTP contract shared by the functions that serve HTTP.

- `models`: the resources (requests and answers) and the one mapping from stored records to them;
- `errors`: the one error shape, and every error mapped to it once;
- `openapi`: what the OpenAPI document says each route can answer, and the API key scheme;
- `paging`: opaque cursors for listing by reference and for recipient lists;
- `function_url`: a Lambda function URL's request served as the REST request of the same route;
- `reports`: the outcomes report's resource, and what its route can answer;
- `resolver`: the resolver every function uses, with the checks made before routing (body size,
  content type, unknown query parameters) in one place, so no route can forget them.
"""

from textstatus.api.errors import ErrorResponse, error_response, install_error_handlers
from textstatus.api.models import (
    MAX_MESSAGES_PER_REGISTRATION,
    PROVIDER_PATTERN,
    CallbackAck,
    MessageEvent,
    MessageHistory,
    MessageList,
    MessageRecipient,
    MessageStatus,
    RecipientList,
    RecipientListPending,
    RecipientStatusFilter,
    RegisterRequest,
    TrackedMessage,
    TrackedMessages,
    message_event,
    message_recipient,
    message_status,
)
from textstatus.api.openapi import (
    API_KEY,
    ERROR_RESPONSES,
    PROVIDER_BAD_GATEWAY,
    STATUS_ROUTE_RESPONSES,
    configure_openapi,
    documented,
)
from textstatus.api.paging import (
    MAX_CURSOR_LENGTH,
    MAX_PAGE_SIZE,
    decode_cursor,
    decode_recipients_cursor,
    encode_cursor,
    encode_recipients_cursor,
)
from textstatus.api.reports import REPORT_ROUTE_RESPONSES, OutcomesReport, outcomes_report
from textstatus.api.resolver import MAX_CALLBACK_BYTES, MAX_REQUEST_BYTES, Resolver, any_query_parameters
from textstatus.correlation import MAX_METADATA_ENTRIES, MAX_REFERENCE_LENGTH

__all__ = [
    "API_KEY",
    "ERROR_RESPONSES",
    "MAX_CALLBACK_BYTES",
    "MAX_CURSOR_LENGTH",
    "MAX_MESSAGES_PER_REGISTRATION",
    "MAX_METADATA_ENTRIES",
    "MAX_PAGE_SIZE",
    "MAX_REFERENCE_LENGTH",
    "MAX_REQUEST_BYTES",
    "PROVIDER_BAD_GATEWAY",
    "PROVIDER_PATTERN",
    "REPORT_ROUTE_RESPONSES",
    "STATUS_ROUTE_RESPONSES",
    "CallbackAck",
    "ErrorResponse",
    "MessageEvent",
    "MessageHistory",
    "MessageList",
    "MessageRecipient",
    "MessageStatus",
    "OutcomesReport",
    "RecipientList",
    "RecipientListPending",
    "RecipientStatusFilter",
    "RegisterRequest",
    "Resolver",
    "TrackedMessage",
    "TrackedMessages",
    "any_query_parameters",
    "configure_openapi",
    "decode_cursor",
    "decode_recipients_cursor",
    "documented",
    "encode_cursor",
    "encode_recipients_cursor",
    "error_response",
    "install_error_handlers",
    "message_event",
    "message_recipient",
    "message_status",
    "outcomes_report",
]
