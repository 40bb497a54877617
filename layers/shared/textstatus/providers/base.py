"""What every provider adapter is, and what they share: mapping, HTTP habits, credential checks."""

from __future__ import annotations

import hmac
import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Self

from textstatus.clock import provider_time
from textstatus.errors import (
    CallbacksNotSupportedError,
    InvalidCallbackError,
    ProviderBadResponseError,
    ProviderRejectedRequestError,
    ProviderThrottledError,
    ProviderUnavailableError,
)
from textstatus.events import Observation, is_valid_message_id
from textstatus.status import Reason, Status

if TYPE_CHECKING:
    import requests

DEFAULT_RETRY_AFTER_SECONDS = 10.0
MAX_RETRY_AFTER_SECONDS = 3600.0
# What we keep of a provider's words and texts: enough to read, never enough to bloat an item.
MAX_PROVIDER_STATUS = 64
MAX_PROVIDER_DETAIL = 500
# How much of a value we could not use is quoted back in an event's detail.
MAX_QUOTED_VALUE = 64
# A count (recipients, segments) beyond this is not a count anyone sent.
MAX_COUNT = 10**9


@dataclass(frozen=True)
class Outcome:
    """One cell of a provider's mapping table."""

    status: Status | None
    reason: Reason | None = None


# A word we do not know is kept, with reason `unknown`, and never changes the status.
UNKNOWN_OUTCOME = Outcome(None, Reason.UNKNOWN)


@dataclass(frozen=True)
class CallbackRequest:
    """A provider's callback as it reached us: exact raw body bytes, lower-cased header names."""

    method: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class ParsedCallback:
    """What one callback request carried: the status reports, and how many items we skip on purpose."""

    observations: list[Observation] = field(default_factory=list)
    ignored: int = 0


@dataclass(frozen=True)
class SentMessage:
    """A message named in a send response, with the provider's first word about it if it gave one.

    `needs_confirmation`: `first` is only the send response's claim, to be confirmed with the
    provider (`ProviderAdapter.confirm`) before it is applied, exactly as a callback's report is.
    """

    message_id: str
    first: Observation | None = None
    needs_confirmation: bool = False


@dataclass(frozen=True)
class SentMessages:
    """What a send response named: its messages, and a short reason for each element skipped
    (a batch with one bad element still names the others)."""

    messages: list[SentMessage]
    ignored: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float
    read_timeout: float
    pool_size: int


def credentials_match(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so response timing reveals nothing about the expected value."""
    if given is None:
        # Still compare, so a missing header costs the same time as a wrong one.
        hmac.compare_digest(expected.encode(), b"\x00" * len(expected.encode()))
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def retry_after_seconds(value: str | None, now: datetime) -> float:
    """Parse Retry-After (delta-seconds or an HTTP date), bounded to something sane."""
    if not value:
        return DEFAULT_RETRY_AFTER_SECONDS
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value).astimezone(UTC) - now).total_seconds()
        except (TypeError, ValueError, OverflowError):
            # OverflowError: a date such as year 9999 with a negative offset has no UTC value.
            return DEFAULT_RETRY_AFTER_SECONDS
    if math.isnan(seconds):
        return DEFAULT_RETRY_AFTER_SECONDS
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def parse_json(raw: bytes | str) -> Any:
    """JSON from a provider; ValueError for anything that is not JSON we can hold.

    Besides malformed text, `json.loads` refuses an integer literal of more than 4300 digits
    with a plain ValueError (not JSONDecodeError), and deep nesting with RecursionError: both
    are a body we cannot read, never an unexpected error.
    """
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def load_json(body: bytes, what: str) -> Any:
    """A callback's JSON body, or InvalidCallbackError (400)."""
    try:
        return parse_json(body)
    except ValueError:  # also UnicodeDecodeError and JSONDecodeError, both ValueErrors
        raise InvalidCallbackError(f"{what} is not valid JSON") from None


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


class ProviderAdapter(ABC):
    """One provider: its status words, its status API, its callbacks.

    An adapter never touches the store. It turns what the provider says into Observations
    and raises the errors of `textstatus.errors` for what went wrong.
    """

    name: ClassVar[str]
    statuses: ClassVar[Mapping[str, Outcome]]
    # How long the provider keeps a message's status; None when not documented.
    retention: ClassVar[timedelta | None] = None
    # HTTP methods the provider's callbacks use; empty for a provider without callbacks.
    callback_methods: ClassVar[frozenset[str]] = frozenset({"POST"})
    # True when `confirm` replaces a report (callback or send response) with the provider's
    # own answer: the report itself is then only a claim, for the history.
    confirms_reports: ClassVar[bool] = False

    @property
    def not_found_grace(self) -> timedelta | None:
        """How long "the provider does not know this message" may mean "no receipt yet".

        After it, the poller marks the message expired (timeout). None: keep polling until
        the tracking deadline.
        """
        return None

    def __init__(self, http: HttpSettings) -> None:
        self._timeout = (http.connect_timeout, http.read_timeout)
        self._pool_size = http.pool_size

    @cached_property
    def _session(self) -> requests.Session:
        """One keep-alive connection pool per provider, made when the provider is first called
        (a callback needs none, so its cold start does not import requests)."""
        import requests
        from requests.adapters import HTTPAdapter

        session = requests.Session()
        pooled = HTTPAdapter(pool_connections=1, pool_maxsize=self._pool_size, max_retries=0)
        session.mount("https://", pooled)
        session.mount("http://", pooled)
        return session

    @classmethod
    @abstractmethod
    def from_config(cls, http: HttpSettings) -> Self:
        """Build the adapter from its settings (read once per cold start)."""

    # Mapping -----------------------------------------------------------------------------

    @classmethod
    def canonical_word(cls, raw: str) -> str:
        """How a raw status word is looked up in `statuses`. Adapters may normalize more."""
        return raw.strip()

    @classmethod
    def outcome(cls, raw: str) -> Outcome:
        return cls.statuses.get(cls.canonical_word(raw), UNKNOWN_OUTCOME)

    def observe(
        self,
        message_id: str,
        provider_status: str,
        event_at: datetime,
        *,
        provider_gave_time: bool = False,
        detail: str | None = None,
        outcome: Outcome | None = None,
        **extra: Any,
    ) -> Observation:
        """Build an Observation from a provider word through this adapter's mapping table.

        The word and the detail are bounded here, once for every adapter: a provider's answer
        of any size never becomes an item DynamoDB refuses.
        """
        mapped = outcome if outcome is not None else self.outcome(provider_status)
        return Observation(
            provider=self.name,
            message_id=message_id,
            status=mapped.status,
            reason=mapped.reason,
            provider_status=provider_status[:MAX_PROVIDER_STATUS],
            event_at=event_at,
            provider_detail=join_detail(detail),
            provider_gave_time=provider_gave_time,
            **extra,
        )

    # Provider API ------------------------------------------------------------------------

    @abstractmethod
    def fetch_status(self, message_id: str, now: datetime) -> Observation | None:
        """Ask the provider for the message's status; None when the provider does not know it."""

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP call with timeouts; outages, throttling and credential errors raised as such.

        Other 4xx answers are returned: only the adapter knows what they mean (not found,
        not yet, bad request).
        """
        import requests

        try:
            response = self._session.request(method, url, timeout=self._timeout, **kwargs)
        except requests.Timeout:
            raise ProviderUnavailableError(self.name, f"{method} timed out") from None
        except requests.RequestException as exc:
            raise ProviderUnavailableError(self.name, f"{method} failed: {type(exc).__name__}") from None
        status = response.status_code
        retry_after = response.headers.get("Retry-After")
        if status == 429 or (status == 503 and retry_after):
            pause = retry_after_seconds(retry_after, datetime.now(UTC))
            raise ProviderThrottledError(self.name, f"throttled (HTTP {status})", pause)
        if status >= 500:
            raise ProviderUnavailableError(self.name, f"HTTP {status}")
        if status in (401, 403):
            raise ProviderRejectedRequestError(self.name, f"credentials refused (HTTP {status})")
        return response

    def _get_resource(self, url: str, **kwargs: Any) -> dict[str, Any] | None:
        """GET a provider's resource for a message: its JSON object, or None when the provider
        does not hold the message (400/404: never sent, or past its retention)."""
        response = self._send("GET", url, **kwargs)
        # The status code first: an error page need not be JSON.
        if response.status_code in (400, 404):
            return None
        if response.status_code != 200:
            raise ProviderBadResponseError(self.name, f"HTTP {response.status_code}")
        return self._json_object(response)

    def _json_object(self, response: requests.Response) -> dict[str, Any]:
        try:
            body = parse_json(response.content)
        except ValueError:
            raise ProviderBadResponseError(
                self.name, f"HTTP {response.status_code} with a body that is not JSON"
            ) from None
        if not isinstance(body, dict):
            raise ProviderBadResponseError(
                self.name, f"HTTP {response.status_code} with a JSON body that is not an object"
            )
        return body

    @abstractmethod
    def messages_in_send_response(self, payload: Any, now: datetime) -> SentMessages:
        """The messages in the provider's own response to a send call; InvalidRequestError if none.

        Only what a send call really returns is taken from it: a status word the provider's
        send call never answers is a claim nobody made, and is dropped.
        """

    # Callbacks ---------------------------------------------------------------------------

    @property
    def supports_callbacks(self) -> bool:
        return bool(self.callback_methods)

    def authenticate_callback(self, request: CallbackRequest) -> None:
        """Raise CallbackAuthenticationError unless the request carries the right credentials."""
        raise CallbacksNotSupportedError(f"{self.name} does not send callbacks; its messages are polled")

    def parse_callback(self, request: CallbackRequest, received_at: datetime) -> ParsedCallback:
        """The status reports in an authenticated callback; InvalidCallbackError if malformed."""
        raise CallbacksNotSupportedError(f"{self.name} does not send callbacks; its messages are polled")

    def confirm(self, observation: Observation, now: datetime) -> Observation | None:
        """Confirm a report (a callback's, or a send response's claim) with the provider before
        it is trusted. Default: trusted, returned as is.

        With `confirms_reports`, the answer is the provider's own observation, unchanged: nothing
        of the report's text is in it. None when the provider does not know the message (the
        report is then ignored).
        """
        return observation

    @staticmethod
    def require_word(value: object, target: str = "status") -> str:
        """A provider's status word from a callback: short and printable, or the callback is refused."""
        if not isinstance(value, str) or not _WORD.fullmatch(value.strip()):
            raise InvalidCallbackError("the callback has no valid status word", target=target)
        return value.strip()

    @staticmethod
    def require_message_id(value: object) -> str:
        if not is_valid_message_id(value):
            raise InvalidCallbackError("the callback has no valid message id", target="messageId")
        assert isinstance(value, str)
        return value


_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z0-9_.:\- ]{1,64}")


def squeeze_whitespace(raw: str) -> str:
    """Remove every whitespace character (providers' docs print `FAILED_TO_ MATCH`)."""
    return _WHITESPACE.sub("", raw)
