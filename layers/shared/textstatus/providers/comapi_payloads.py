"""What Comapi sends: webhook envelopes, message resources (its status API, its 201 send
response) and batch send answers, as small models lenient where Comapi's docs are."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from textstatus.providers.payloads import (
    MAX_PROVIDER_DETAIL,
    EventId,
    MessageId,
    NamedMessage,
    OptionalText,
    Payload,
    Text,
    quoted,
)


def _object_or_empty(value: Any) -> Any:
    """A part of the envelope that is not an object is as if absent."""
    return value if isinstance(value, dict) else {}


class ComapiSmsStatus(Payload):
    """`payload.details.channelStatus.sms`: the SMS channel's own status, time and details."""

    status: Any = None  # checked as a word only when present (else the event's name stands in)
    updated_on: Any = Field(None, alias="updatedOn")
    details: Any = None


class ComapiChannelStatus(Payload):
    sms: Annotated[ComapiSmsStatus, BeforeValidator(_object_or_empty)] = Field(
        default_factory=lambda: ComapiSmsStatus.model_validate({})
    )


class ComapiDetails(Payload):
    channel_status: Annotated[ComapiChannelStatus, BeforeValidator(_object_or_empty)] = Field(
        default_factory=ComapiChannelStatus, alias="channelStatus"
    )


class ComapiEventPayload(Payload):
    id: MessageId
    details: Annotated[ComapiDetails, BeforeValidator(_object_or_empty)] = Field(default_factory=ComapiDetails)
    updated_on: Any = Field(None, alias="updatedOn")
    # The `metadata` sent with the message, echoed: correlation data, read whatever its shape.
    metadata: Any = None

    @property
    def sms(self) -> ComapiSmsStatus:
        return self.details.channel_status.sms


class ComapiEvent(Payload):
    """Any webhook envelope: an object with a name (only `message.*` events are read further)."""

    described: ClassVar[str] = "a Comapi webhook event"
    name: Annotated[str, Field(strict=True)]


class ComapiMessageEvent(ComapiEvent):
    event_id: EventId = Field(alias="eventId")
    payload: ComapiEventPayload
    timestamp: Any = None


class ComapiMessage(Payload):
    """A message resource: its status (None when it has none we can read), times and details."""

    status: OptionalText = None
    updated_on: Any = Field(None, alias="_updatedOn")
    sent_on: Any = Field(None, alias="sentOn")
    status_details: Any = Field(None, alias="statusDetails")
    metadata: Any = None


class ComapiStatus(ComapiMessage):
    """Get Status: a message resource that must have a status."""

    described: ClassVar[str] = "a Comapi message"
    status: Text
    id: Any = None
    message_id: Any = Field(None, alias="messageId")

    def names(self) -> tuple[object, ...]:
        return (self.id, self.message_id)


class ComapiSent(ComapiMessage, NamedMessage):
    """The 201 send response: a message resource with its messageId."""

    described: ClassVar[str] = "a Comapi send response"


class ComapiBatchItem(NamedMessage):
    """One element of the 202 batch send answer, {index, messageId}."""

    described: ClassVar[str] = "a Comapi batch send response item"


def describe(details: Any) -> str | None:
    """A short, flat text of the provider's status details (never the whole object).

    Values are rendered by `quoted`, which never raises (`str()` of a very long integer does).
    """
    if isinstance(details, str):
        return details[:MAX_PROVIDER_DETAIL] or None
    if isinstance(details, dict):
        parts: list[str] = []
        size = 0
        for key, value in details.items():
            if size > MAX_PROVIDER_DETAIL:
                break
            if isinstance(value, str):
                text = f"{key}={value[:MAX_PROVIDER_DETAIL]}"
            elif isinstance(value, int | float):
                text = f"{key}={quoted(value)}"
            else:
                continue
            parts.append(text)
            size += len(text) + 2
        return ", ".join(parts)[:MAX_PROVIDER_DETAIL] or None
    return None
