"""Paging: opaque cursors over the reference index."""

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
_CURSOR_KEYS = ("createdAt", "messageId", "provider", "reference")
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
    invalid = errors.InvalidRequestError("the cursor is not one this listing handed out", target="cursor")
    if not _CURSOR_CHARACTERS.fullmatch(cursor):
        raise invalid
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise invalid from None
    if not isinstance(document, dict) or sorted(document) != list(_CURSOR_KEYS):
        raise invalid
    if not all(isinstance(value, str) and _CURSOR_PATTERNS[key].fullmatch(value) for key, value in document.items()):
        raise invalid
    if _encode(document) != cursor:
        raise invalid
    if document["reference"] != reference:
        raise errors.InvalidRequestError("the cursor belongs to another reference", target="cursor")
    return document
