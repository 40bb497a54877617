"""What every provider adapter is, and what they share: mapping, HTTP habits, credential checks."""

from __future__ import annotations

import hmac
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Self

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
    """A message named in a send response, with the provider's first word about it if it gave one."""

    message_id: str
    first: Observation | None = None
    needs_confirmation: bool = False


@dataclass(frozen=True)
class SentMessages:
    """The messages of a send response, and why any of its elements were not usable."""

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
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER_SECONDS
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def load_json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise InvalidCallbackError(f"{what} is not valid JSON") from None


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
    # True when a report (callback, send response) is only a claim until `confirm` fetches it.
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
        """Build an Observation from a provider word through this adapter's mapping table."""
        mapped = outcome if outcome is not None else self.outcome(provider_status)
        return Observation(
            provider=self.name,
            message_id=message_id,
            status=mapped.status,
            reason=mapped.reason,
            provider_status=provider_status,
            event_at=event_at,
            provider_detail=detail,
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
        if response.status_code in (400, 404):
            return None
        body = self._json_object(response)
        if response.status_code != 200:
            raise ProviderBadResponseError(self.name, f"HTTP {response.status_code}")
        return body

    def _json_object(self, response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
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
    def messages_in_send_response(self, payload: Any, now: datetime) -> list[SentMessage]:
        """The messages in the provider's own response to a send call; InvalidRequestError if none."""

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
        """Confirm a callback's report with the provider before it is trusted. Default: trusted.

        None when the provider does not know the message (the report is then ignored).
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
