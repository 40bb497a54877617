"""Paging: opaque cursors over the reference index, and over a provider's recipient lists."""

from __future__ import annotations

import base64
import binascii
import json
import re

from textstatus import errors
from textstatus.api.models import PROVIDER_PATTERN
from textstatus.clock import iso
from textstatus.events import MESSAGE_ID_PATTERN, REFERENCE_PATTERN
from textstatus.store import StatusRecord

MAX_PAGE_SIZE = 100
MAX_CURSOR_LENGTH = 1024  # a cursor names a reference (256), a message id (128), a provider and a time
_CURSOR_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")
_CURSOR_PATTERNS = {
    "createdAt": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z"),
    "messageId": re.compile(MESSAGE_ID_PATTERN),
    "provider": re.compile(PROVIDER_PATTERN),
    "reference": re.compile(REFERENCE_PATTERN),
}


def encode_cursor(record: StatusRecord) -> str:
    """An opaque cursor that starts the next page after this message: base64url (unpadded) of
    the message's place in the reference index, as compact JSON with sorted keys."""
    return _encode(
        {
            "createdAt": iso(record.created_at),
            "messageId": record.message_id,
            "provider": record.provider,
            "reference": record.reference or "",
        }
    )


def _encode(document: dict[str, str]) -> str:
    raw = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, reference: str) -> dict[str, str]:
    """The message a cursor starts after; 400 (target `cursor`) for anything `encode_cursor`
    did not hand out for this reference: not base64url, not the JSON it writes (byte for byte),
    other keys, values out of shape, or another reference's cursor."""
    document = _decode(cursor, _CURSOR_PATTERNS)
    if document["reference"] != reference:
        raise errors.InvalidRequestError("the cursor belongs to another reference", target="cursor")
    return document


def _decode(cursor: str, patterns: dict[str, re.Pattern[str]]) -> dict[str, str]:
    """The document of a cursor `_encode` wrote with exactly these keys, each value of its pattern;
    400 (target `cursor`) for anything else: not base64url, not the JSON it writes (byte for byte),
    other keys, values out of shape."""
    invalid = errors.InvalidRequestError("the cursor is not one this listing handed out", target="cursor")
    if not _CURSOR_CHARACTERS.fullmatch(cursor):
        raise invalid
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise invalid from None
    if not isinstance(document, dict) or sorted(document) != sorted(patterns):
        raise invalid
    if not all(isinstance(value, str) and patterns[key].fullmatch(value) for key, value in document.items()):
        raise invalid
    if _encode(document) != cursor:
        raise invalid
    return document


# Recipient lists: the cursor names the provider's next page of one message's list (and the
# status filter it was made for). Only a page number: it can never name a URL to fetch.
_RECIPIENT_CURSOR_PATTERNS = {
    "messageId": re.compile(MESSAGE_ID_PATTERN),
    "page": re.compile(r"[1-9][0-9]{0,6}"),
    "status": re.compile(r"[a-z]{0,32}"),
}


def encode_recipients_cursor(message_id: str, status: str | None, page: int) -> str:
    """An opaque cursor for page `page` of the message's recipient list (filtered by `status`)."""
    return _encode({"messageId": message_id, "page": str(page), "status": status or ""})


def decode_recipients_cursor(cursor: str, message_id: str, status: str | None) -> int:
    """The provider page a recipients cursor names; 400 (target `cursor`) for a cursor not handed
    out by `encode_recipients_cursor`, or handed out for another message or status filter."""
    document = _decode(cursor, _RECIPIENT_CURSOR_PATTERNS)
    if (document["messageId"], document["status"]) != (message_id, status or ""):
        raise errors.InvalidRequestError("the cursor belongs to another message or status filter", target="cursor")
    return int(document["page"])
