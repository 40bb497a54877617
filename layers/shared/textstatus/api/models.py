"""The API's resources: request and response models, and how a stored record becomes one."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from textstatus.clock import iso
from textstatus.correlation import MAX_METADATA_ENTRIES, MetadataKey, MetadataValue, Reference
from textstatus.events import MESSAGE_ID_PATTERN
from textstatus.providers.base import Recipient
from textstatus.store import HistoryEntry, StatusRecord

# Every model is built when a request first needs it (defer_build), not at import: a cold
# request builds only the models of its own route.
DEFERRED = ConfigDict(defer_build=True)


class _CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True)


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
    reference: str | None = Field(
        None,
        description="The client reference given at registration; when none was, the entry named by "
        "REFERENCE_KEY in the sender's correlation data, if set.",
        examples=["order-1234"],
    )
    metadata: dict[str, str] = Field(
        default_factory=dict,
        description="The metadata given at registration; when none was, the sender's correlation data "
        "the provider echoed (Wunderkind's callbackData, Comapi's metadata), within the same limits.",
    )
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
    recipient_id: str | None = Field(
        None,
        description="The provider's id of the recipient the report is about, when it names one "
        "(a GovDelivery recipient callback); null otherwise.",
        examples=["16553200"],
    )


class MessageHistory(_CamelModel):
    provider: str
    message_id: str
    events: list[MessageEvent]


class RecipientStatusFilter(StrEnum):
    """The recipient statuses GovDelivery TMS reports, which `?status=` filters a recipient list by."""

    FAILED = "failed"
    SENT = "sent"
    BLACKLISTED = "blacklisted"
    CANCELED = "canceled"
    INCONCLUSIVE = "inconclusive"
    SENDING = "sending"
    NEW = "new"


class MessageRecipient(_CamelModel):
    """One recipient of a message as the provider lists it now: read from the provider on request,
    never stored, its phone number masked."""

    recipient_id: str | None = Field(None, description="The provider's id of the recipient.", examples=["16553201"])
    phone: str | None = Field(
        None, description="The phone number, masked to its last four digits.", examples=["*******1234"]
    )
    status: str | None = Field(
        None, description="The normalized status; null when the provider's word is unknown.", examples=["undelivered"]
    )
    reason: str | None = Field(None, examples=["carrier_error"])
    provider_status: str | None = Field(None, description="The provider's own status word.", examples=["failed"])
    error_message: str | None = Field(
        None, description="Why the provider says the recipient failed.", examples=["Number is not SMS capable"]
    )
    completed_at: str | None = Field(None, description="When the recipient reached a final status.")


class RecipientList(_CamelModel):
    """Part of a message's recipient list, in the provider's order."""

    provider: str = Field(examples=["govdelivery"])
    message_id: str = Field(examples=["165532"])
    recipients: list[MessageRecipient]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the rest of the list; null at its end. A page may be empty "
        "while more follow (a filter with no match among the recipients read)."
    )


class RecipientListPending(_CamelModel):
    """The provider is still building the recipient list: ask again after `Retry-After` seconds."""

    provider: str = Field(examples=["govdelivery"])
    message_id: str = Field(examples=["165532"])
    retry_after: int = Field(description="Seconds to wait before asking again (also the `Retry-After` header).")
    message: str = "the provider is still building the recipient list"


PROVIDER_PATTERN = r"^[a-z]{1,32}$"
# A batch send response (Comapi's) names at most this many messages: each one is a conditional
# write in one transaction, and a request must finish well inside the function's timeout.
MAX_MESSAGES_PER_REGISTRATION = 100


class RegisterRequest(_CamelModel):
    """Start tracking: one message by id, or every message in a provider's own send response."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)

    provider: str = Field(pattern=PROVIDER_PATTERN, examples=["wunderkind"])
    message_id: str | None = Field(None, pattern=MESSAGE_ID_PATTERN, examples=["f9eea82a-ce63-4dfa-ae8e-09b891f446cc"])
    reference: Reference | None = Field(None, examples=["order-1234"])
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
    model_config = DEFERRED

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
    model_config = DEFERRED

    accepted: int
    duplicates: int
    ignored: int


def message_status(record: StatusRecord) -> MessageStatus:
    """The one mapping from a stored status to the API's resource."""
    return MessageStatus(
        provider=record.provider,
        message_id=record.message_id,
        status=record.status.value,
        final=record.final,
        reason=record.reason.value if record.reason else None,
        provider_status=record.provider_status,
        provider_detail=record.provider_detail,
        segments=dict(record.segments) if record.segments is not None else None,
        recipients=dict(record.recipients) if record.recipients is not None else None,
        reference=record.reference,
        metadata=dict(record.metadata),
        source=record.source.value,
        provider_event_at=iso(record.provider_event_at),
        created_at=iso(record.created_at),
        updated_at=iso(record.updated_at),
        last_polled_at=iso(record.last_polled_at) if record.last_polled_at else None,
        next_poll_at=iso(record.next_poll_at) if record.next_poll_at else None,
        expires_at=iso(record.expires_at),
        version=record.version,
    )


def message_event(entry: HistoryEntry) -> MessageEvent:
    """The one mapping from a history entry to the API's resource."""
    observation = entry.event.observation
    return MessageEvent(
        event_id=entry.event_id,
        source=entry.event.source.value,
        status=observation.status.value if observation.status else None,
        reason=observation.reason.value if observation.reason else None,
        provider_status=observation.provider_status,
        provider_detail=observation.provider_detail,
        provider_event_at=iso(observation.event_at),
        received_at=iso(entry.event.received_at),
        changed_status=entry.changed_status,
        recipient_id=observation.recipient_id,
    )


def message_recipient(recipient: Recipient) -> MessageRecipient:
    """The one mapping from a provider's recipient to the API's resource."""
    return MessageRecipient(
        recipient_id=recipient.recipient_id,
        phone=recipient.phone,
        status=recipient.status.value if recipient.status else None,
        reason=recipient.reason.value if recipient.reason else None,
        provider_status=recipient.provider_status,
        error_message=recipient.error_message,
        completed_at=iso(recipient.completed_at) if recipient.completed_at else None,
    )
