"""Reading what providers send: their payloads as small pydantic models, and the values in them
(words, ids, counts, times) bounded so that nothing a provider sends can raise or bloat an item.

A provider's model is a `Payload` (the provider's own field names as aliases, extra fields
ignored); `parse_payload` validates one and turns pydantic's ValidationError into our error for
that kind of payload, in this one place.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, ValidationError

from textstatus.clock import provider_time
from textstatus.errors import InvalidCallbackError, InvalidRequestError, ProviderBadResponseError, TextStatusError
from textstatus.events import has_lone_surrogate, is_valid_message_id
from textstatus.personal import opaque_if_personal

# What we keep of a provider's words and texts: enough to read, never enough to bloat an item.
MAX_PROVIDER_STATUS = 64
MAX_PROVIDER_DETAIL = 500
# How much of a value we could not use is quoted back in an event's detail.
MAX_QUOTED_VALUE = 64
# A count (recipients, segments) beyond this is not a count anyone sent.
MAX_COUNT = 10**9

_MAX_WORD = 64


# Raw JSON -------------------------------------------------------------------------------------


def parse_json(raw: bytes | str) -> Any:
    """JSON from a provider; ValueError for anything that is not JSON we can hold.

    An integer literal of more than 4300 digits (which `int` refuses) is kept as its text, so
    the field that holds it is simply not a usable number, and one element of a batch holding
    one does not make the whole body unreadable. Deep nesting (RecursionError) is a body we
    cannot read, never an unexpected error. Bytes must be UTF-8 (a UTF-8 byte order mark is
    allowed): `json.loads` would also read UTF-16 and UTF-32. `NaN`, `Infinity` and 1e999 are
    read as floats that no provider value accepts (each field that holds one is unusable, the
    rest of the body is kept).
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("the body is not UTF-8") from None
    try:
        return json.loads(raw, parse_int=_bounded_int)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _bounded_int(text: str) -> int | str:
    return int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else text


_MAX_INT_DIGITS = 4000


# Values ---------------------------------------------------------------------------------------


def bounded_count(value: object) -> int | None:
    """A provider's count: a JSON integer from 0 to MAX_COUNT, or None (dropped).

    Booleans, floats (1e999 is infinity, NaN is not a number), strings and negative or huge
    integers are not counts.
    """
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT:
        return value
    return None


def quoted(value: object, limit: int = MAX_QUOTED_VALUE) -> str:
    """A provider's value as short, safe text for an event's detail (never raises).

    `str()` of an integer of more than 4300 digits raises ValueError, so integers are
    rendered only when short.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value[:limit] + ("..." if len(value) > limit else "")
        return repr(text)
    if isinstance(value, int):
        if value.bit_length() > limit * 3:  # more than about `limit` digits
            return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
        return str(value)[:limit]
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def first_usable_time(candidates: Iterable[tuple[str, object]], now: datetime) -> tuple[datetime | None, list[str]]:
    """The first of a provider's times (field name, raw value) that we can use, in order.

    Returns it (None when none is usable) and a note for each value read before it that was
    present but unusable, so the event keeps the raw value as evidence: a time that cannot be
    used is treated as missing, never trusted and never an error.
    """
    notes: list[str] = []
    for name, raw in candidates:
        moment = provider_time(raw, now)
        if moment is not None:
            return moment, notes
        if raw is not None:
            notes.append(f"{name} {quoted(raw)} not usable")
    return None, notes


def join_detail(*parts: str | None) -> str | None:
    """Texts for one event's detail, in order, bounded to MAX_PROVIDER_DETAIL."""
    text = "; ".join(part for part in parts if part)
    return text[:MAX_PROVIDER_DETAIL] or None


# Field types ----------------------------------------------------------------------------------


def _message_id(value: str) -> str:
    if not is_valid_message_id(value):
        raise ValueError("not a valid message id")
    return value


def is_word(value: object) -> bool:
    """A status word: 1 to 64 printable characters (surrounding whitespace aside), in any script:
    a word we do not know is kept as one (reason `unknown`), never a refused callback, since
    some providers never send a callback twice."""
    if not isinstance(value, str):
        return False
    word = value.strip()
    return 0 < len(word) <= _MAX_WORD and word.isprintable() and not has_lone_surrogate(word)


def _word(value: str) -> str:
    if not is_word(value):
        raise ValueError("not a valid status word")
    return value.strip()


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("empty")
    return value.strip()


def _event_id(value: str) -> str:
    if not value.isprintable() or has_lone_surrogate(value):
        raise ValueError("not printable text")
    # The history shows it: one shaped like a phone number or an email is kept as a digest.
    return opaque_if_personal(value)


def _or_none[T](kind: type[T]) -> Callable[[object], T | None]:
    return lambda value: value if isinstance(value, kind) else None


# A message id: text of our documented shape (never a number, never a path).
MessageId = Annotated[str, Strict(), AfterValidator(_message_id)]
# A status word from a callback: short and printable.
Word = Annotated[str, Strict(), AfterValidator(_word)]
# A provider's own id for an event (the history shows it): 1 to 128 printable characters, never a
# phone number or an email (kept as a digest: duplicates stay duplicates).
EventId = Annotated[str, Strict(), Field(min_length=1, max_length=128), AfterValidator(_event_id)]
# A status word from a provider's own answer: any text that is not blank (bounded when observed).
Text = Annotated[str, Strict(), AfterValidator(_text)]
# Values kept only when usable; anything else is as if missing.
OptionalText = Annotated[str | None, BeforeValidator(lambda v: v.strip() if isinstance(v, str) and v.strip() else None)]
OptionalString = Annotated[str | None, BeforeValidator(_or_none(str))]
Count = Annotated[int | None, BeforeValidator(bounded_count)]
Object = Annotated[dict[str, Any], BeforeValidator(lambda v: v if isinstance(v, dict) else {})]


class Payload(BaseModel):
    """A provider's payload: its field names as aliases, lenient about what we do not read."""

    # Built when first parsed (defer_build): a cold request builds only the payloads it reads.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, defer_build=True)

    # What the payload is, for error messages ("a Comapi send response").
    described: ClassVar[str] = "the payload"

    def names(self) -> tuple[object, ...]:
        """The message ids the payload itself gives (to check an answer is about our message)."""
        return ()


class NamedMessage(Payload):
    """A payload that names its message in `messageId`."""

    message_id: MessageId = Field(alias="messageId")


# Errors ---------------------------------------------------------------------------------------

# How a payload we cannot use is reported: (what it is, which field) -> our error.
ErrorKind = Callable[[str, str], TextStatusError]


def callback_error(message: str, field: str) -> TextStatusError:
    """A callback that is not what the provider documents: 400, never retried by the provider."""
    return InvalidCallbackError(message, target=field or "body")


def send_response_error(message: str, field: str) -> TextStatusError:
    """A send response the caller gave us that names no message: 400."""
    return InvalidRequestError(message, target="sendResponse")


def provider_answer_error(provider: str) -> ErrorKind:
    """The provider answered 200 with something we cannot read: a bad response."""
    return lambda message, field: ProviderBadResponseError(provider, f"{message} (HTTP 200)")


def parse_payload[ModelT: Payload](model: type[ModelT], data: Any, error: ErrorKind) -> ModelT:
    """`data` as `model`, or the error of its kind naming the first field that is wrong (never
    its value)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        what = model.described
        problem = f"without a valid {field}" if field else "that is not an object"
        raise error(f"{what} {problem}", field) from None
