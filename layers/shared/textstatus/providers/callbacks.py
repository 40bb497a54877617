"""A provider's callback as it reached us, what it carried, and the checks every adapter makes
on one: constant-time credentials, a JSON body, a status word, a message id."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from textstatus.errors import InvalidCallbackError
from textstatus.events import Observation
from textstatus.providers.payloads import is_word, parse_json

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class CallbackRequest:
    """A provider's callback as it reached us: exact raw body bytes, lower-cased header names."""

    method: str
    headers: Mapping[str, str]
    # Every value of every query parameter, in order (a parameter given twice is not one value).
    query_values: Mapping[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class ParsedCallback:
    """What one callback request carried: the status reports, and how many items we skip on purpose."""

    observations: list[Observation] = field(default_factory=list)
    ignored: int = 0


def credentials_match(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so response timing reveals nothing about the expected value."""
    if given is None:
        # Still compare, so a missing header costs the same time as a wrong one.
        hmac.compare_digest(expected.encode(), b"\x00" * len(expected.encode()))
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def load_json(body: bytes, what: str) -> Any:
    """A callback's JSON body, or InvalidCallbackError (400)."""
    try:
        return parse_json(body)
    except ValueError:  # also UnicodeDecodeError and JSONDecodeError, both ValueErrors
        raise InvalidCallbackError(f"{what} is not valid JSON") from None


def require_word(value: object, target: str = "status") -> str:
    """A provider's status word from a callback: short and printable, or the callback is refused."""
    if not is_word(value):
        raise InvalidCallbackError("the callback has no valid status word", target=target)
    assert isinstance(value, str)
    return value.strip()


def squeeze_whitespace(raw: str) -> str:
    """Remove every whitespace character (providers' docs print `FAILED_TO_ MATCH`)."""
    return _WHITESPACE.sub("", raw)
