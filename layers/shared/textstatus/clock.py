"""Time in one place: UTC everywhere, one fixed-width ISO format that sorts as text."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# A provider's time outside this window is not a time we can use (a default such as
# 0001-01-01, a placeholder such as 9999-12-31, a clock far off): it is treated as missing.
EARLIEST_PROVIDER_TIME = datetime(2000, 1, 1, tzinfo=UTC)
MAX_PROVIDER_CLOCK_SKEW = timedelta(days=1)
# ISO 8601 as providers send it: a date, `T`, a time to the minute or finer, and `Z` or an
# offset in hours and minutes (none: UTC). Python's own parser accepts more than this (a space
# before `Z`, offsets with seconds, a trailing newline): what it alone accepts is not used.
_ISO_8601 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?", re.ASCII)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Render as `2026-11-22T10:00:03.000000Z`: fixed width (four-digit year, microseconds),
    so string order is time order."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}.{utc.microsecond:06d}Z"


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 timestamp; naive times are taken as UTC.

    For our own stored times. A provider's time goes through `provider_time`.
    """
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def provider_time(value: object, now: datetime) -> datetime | None:
    """A provider's timestamp, or None when it is missing or not usable.

    Not usable: not a string, not ISO 8601 (`_ISO_8601`), not representable in UTC (year 0001 with a positive
    offset, year 9999 with a negative one), before 2000, or more than a day after `now`. Never
    raises: a provider can send anything.
    """
    if not isinstance(value, str) or not _ISO_8601.fullmatch(value):
        return None
    try:
        moment = parse_iso(value)
    except (ValueError, OverflowError):
        return None
    if moment < EARLIEST_PROVIDER_TIME or moment > now + MAX_PROVIDER_CLOCK_SKEW:
        return None
    return moment


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())
