"""What GovDelivery TMS sends: message resources (status answers and send responses) and
recipient callbacks, as small models lenient where TMS's docs are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, model_validator

from textstatus.providers.payloads import (
    MessageId,
    OptionalString,
    OptionalText,
    Payload,
    Text,
    Word,
    bounded_count,
)

FINAL_RECIPIENT_STATUSES = ("sent", "failed", "blacklisted", "canceled", "inconclusive")
# The keys of `recipient_counts` TMS documents; anything else in it is not kept.
COUNT_KEYS = ("total", "new", "sending", *FINAL_RECIPIENT_STATUSES)
# A message id TMS gives as a JSON number: a plain non-negative integer of sane size.
MAX_NUMERIC_ID = 10**18


def last_segment(url: object) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:  # e.g. "http://[" (an unclosed IPv6 host)
        return None
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    return segment or None


def recipient_segment(url: object) -> str | None:
    """The recipient's id in `recipient_url` (`.../recipients/{id}`), or None when the path does
    not end that way (`.../recipients/`, `.../recipients/../../x`)."""
    if not isinstance(url, str) or not url:
        return None
    try:
        parts = urlsplit(url).path.split("/")
    except ValueError:
        return None
    return parts[-1] if len(parts) >= 2 and parts[-2] == "recipients" and parts[-1] not in ("", ".", "..") else None


def numeric_or_text_id(raw: object) -> str | None:
    """A message id given as text, or as a JSON integer of sane size (not a bool, not a float)."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < MAX_NUMERIC_ID:
        return str(raw)
    return None


def counts(raw: Any) -> dict[str, int]:
    """The documented recipient counts that are real counts; any other value is dropped."""
    if not isinstance(raw, dict):
        return {}
    found = {key: bounded_count(raw.get(key)) for key in COUNT_KEYS}
    return {key: value for key, value in found.items() if value is not None}


def counts_text(counts: Mapping[str, int]) -> str | None:
    return ", ".join(f"{key} {value}" for key, value in counts.items() if value) or None


class GovdeliveryMessage(Payload):
    """A message resource: its status (None when it has none we can read), counts and time."""

    status: OptionalText = None
    recipient_counts: Annotated[dict[str, int], BeforeValidator(counts)] = Field(default_factory=dict)
    completed_at: Any = None


class GovdeliveryStatus(GovdeliveryMessage):
    described: ClassVar[str] = "a GovDelivery message"
    status: Text
    id: Any = None
    links: Any = Field(None, alias="_links")

    def names(self) -> tuple[object, ...]:
        own = self.links.get("self") if isinstance(self.links, dict) else None
        return (self.id, last_segment(own))


class GovdeliverySent(GovdeliveryMessage):
    """The send response: a message resource whose id is `id` (text or a plain integer) or,
    without one, the end of `_links.self`."""

    described: ClassVar[str] = "a GovDelivery send response"
    message_id: MessageId

    @model_validator(mode="before")
    @classmethod
    def _named(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        links = data.get("_links")
        raw_id = data.get("id")
        name = numeric_or_text_id(raw_id) if raw_id is not None else None
        if raw_id is None:
            name = last_segment(links.get("self") if isinstance(links, dict) else None)
        return {**data, "message_id": name}


class GovdeliveryCallback(Payload):
    """A recipient's callback (every field is text in TMS's docs; anything else is not a field
    we can read): the message is named by the end of `message_url`."""

    described: ClassVar[str] = "a GovDelivery callback"
    message_id: Annotated[MessageId, BeforeValidator(last_segment)] = Field(alias="message_url")
    status: Word
    recipient: Annotated[str | None, BeforeValidator(recipient_segment)] = Field(None, alias="recipient_url")
    error_message: OptionalString = None
