"""The sender's own data about a message: the limits of metadata and references (one definition,
which the registration API and what providers echo both use), and the correlation data a provider
echoes (Wunderkind's `callbackData`, Comapi's `metadata`) read into metadata within those limits.

Correlation data is the sender's, never ours to trust: whatever cannot be kept is dropped with a
warning (keys, lengths and reasons, never a value: values may be personal data) and counted in
`CorrelationDataDropped`. Reading it never fails a report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from typing import Annotated, Any

from pydantic import StringConstraints, TypeAdapter, ValidationError

from textstatus.events import REFERENCE_PATTERN, Correlation, storable_text
from textstatus.observability import count, logger
from textstatus.personal import is_personal_id, looks_masked, redact_personal
from textstatus.providers.payloads import parse_json

MAX_REFERENCE_LENGTH = 256
MAX_METADATA_ENTRIES = 20
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 256
MetadataKey = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_METADATA_KEY, pattern=r"^[A-Za-z0-9_.:-]+$")
]
MetadataValue = Annotated[str, StringConstraints(max_length=MAX_METADATA_VALUE)]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REFERENCE_LENGTH, pattern=REFERENCE_PATTERN)]
# At most this many reasons are logged for one report's correlation data.
_MAX_LOGGED_REASONS = 10


@cache
def _adapters() -> tuple[TypeAdapter[str], TypeAdapter[str], TypeAdapter[str]]:
    # Built when first needed: a callback without correlation data never pays for them.
    return TypeAdapter(MetadataKey), TypeAdapter(MetadataValue), TypeAdapter(Reference)


def _valid(adapter: TypeAdapter[str], value: str) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


def read_correlation(provider: str, message_id: str, raw: object, *, encoded: bool = False) -> Correlation | None:
    """The correlation data a provider echoed with a report, as metadata; None when there is none
    to keep (absent, empty, or nothing usable in it).

    `encoded`: `raw` is the JSON text of an object (Wunderkind's `callbackData`); otherwise it is the
    object itself (Comapi's `metadata`). Keys must be metadata keys, values are kept as text (a
    value that is not a string as its compact JSON) of at most 256 characters, and the first 20
    usable entries are kept; everything else is dropped.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    data: Any = raw
    problem = None
    if encoded and not isinstance(raw, str):
        problem = "not a JSON string"
    elif encoded and isinstance(raw, str):
        try:
            data = parse_json(raw)
        except ValueError:
            problem = f"a string of {len(raw)} characters that is not JSON"
    if problem is None and not isinstance(data, dict):
        problem = "not a JSON object"
    if problem is not None:
        _dropped(provider, message_id, [problem])
        return None
    metadata, reasons, dropped = _entries(data)
    if dropped:
        _dropped(provider, message_id, reasons, dropped)
    return Correlation(metadata) if metadata else None


def _entries(data: Mapping[str, Any]) -> tuple[dict[str, str], list[str], int]:
    """The usable entries (the first MAX_METADATA_ENTRIES), the reasons for the others, and how
    many were dropped."""
    key_adapter, value_adapter, _ = _adapters()
    metadata: dict[str, str] = {}
    reasons: list[str] = []
    beyond = 0
    for key, value in data.items():
        if not _valid(key_adapter, key):
            reasons.append(f"a key of {len(key)} characters that is not a metadata key")
            continue
        if is_personal_id(key):
            reasons.append(f"a key of {len(key)} characters that is a phone number or an email")
            continue
        if len(metadata) == MAX_METADATA_ENTRIES:
            beyond += 1
            continue
        text = _as_text(value)
        if text is None:
            reasons.append(f"{key}: null, or a value that cannot be written as JSON")
        elif not _valid(value_adapter, text):
            reasons.append(f"{key}: {len(text)} characters, over {MAX_METADATA_VALUE}")
        else:
            # Phone numbers and emails are never stored: masked where the sender put them.
            masked = redact_personal(text)
            if masked != text:
                reasons.append(f"{key}: a phone number or an email masked")
            metadata[key] = masked
    dropped = len(reasons) + beyond
    if beyond:
        reasons.append(f"{beyond} entries beyond the first {MAX_METADATA_ENTRIES}")
    return metadata, reasons, dropped


def _as_text(value: object) -> str | None:
    """A value as text: a string as itself, anything else as compact JSON (None for null)."""
    if value is None:
        return None
    if isinstance(value, str):
        return storable_text(value)
    try:
        return storable_text(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
    except (ValueError, TypeError, RecursionError):  # a nesting or a number json cannot write
        return None


def with_reference(correlation: Correlation, key: str | None, provider: str, message_id: str) -> Correlation:
    """`correlation` with the reference its entry `key` gives (`REFERENCE_KEY`), when that entry
    is a valid reference; an entry that is not is dropped as a reference (kept as metadata)."""
    value = correlation.metadata.get(key) if key is not None else None
    if value is None:
        return correlation
    if not _valid(_adapters()[2], value) or looks_masked(value):
        _dropped(provider, message_id, [f"{key}: {len(value)} characters, not a reference"])
        return correlation
    return replace(correlation, reference=value)


def _dropped(provider: str, message_id: str, reasons: list[str], dropped: int = 1) -> None:
    """Log why (never a value) and count what was dropped."""
    logger.warning(
        "correlation data dropped",
        extra={
            "provider": provider,
            "message_id": message_id,
            "dropped": dropped,
            "reasons": reasons[:_MAX_LOGGED_REASONS],
        },
    )
    count("CorrelationDataDropped", dropped)
