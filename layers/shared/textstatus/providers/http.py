"""How adapters talk to a provider: one pooled `requests` session each, timeouts on every call,
and the provider's HTTP answers turned into our errors.

`requests` is imported on first use only: a callback needs no provider call, so the callbacks
function's cold start never imports it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from textstatus.errors import (
    ProviderBadResponseError,
    ProviderRejectedRequestError,
    ProviderThrottledError,
    ProviderUnavailableError,
)
from textstatus.providers.payloads import parse_json

if TYPE_CHECKING:
    import requests

DEFAULT_RETRY_AFTER_SECONDS = 10.0
MAX_RETRY_AFTER_SECONDS = 3600.0


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float
    read_timeout: float
    pool_size: int


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


def not_held(response: requests.Response) -> bool:
    """The default reading of a 400 or 404: the provider does not hold the message (never sent,
    or past its retention)."""
    return True


class ProviderHttp:
    """One provider's HTTP: a keep-alive connection pool made when the provider is first called."""

    def __init__(self, provider: str, settings: HttpSettings) -> None:
        self.provider = provider
        self._timeout = (settings.connect_timeout, settings.read_timeout)
        self._pool_size = settings.pool_size

    @cached_property
    def session(self) -> requests.Session:
        import requests
        from requests.adapters import HTTPAdapter

        session = requests.Session()
        pooled = HTTPAdapter(pool_connections=1, pool_maxsize=self._pool_size, max_retries=0)
        session.mount("https://", pooled)
        session.mount("http://", pooled)
        return session

    def send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP call with timeouts; outages, throttling and credential errors raised as such.

        Other 4xx answers are returned: only the adapter knows what they mean (not found,
        not yet, bad request).
        """
        import requests

        try:
            response = self.session.request(method, url, timeout=self._timeout, **kwargs)
        except requests.Timeout:
            raise ProviderUnavailableError(self.provider, f"{method} timed out") from None
        except requests.RequestException as exc:
            raise ProviderUnavailableError(self.provider, f"{method} failed: {type(exc).__name__}") from None
        status = response.status_code
        retry_after = response.headers.get("Retry-After")
        if status == 429 or (status == 503 and retry_after):
            pause = retry_after_seconds(retry_after, datetime.now(UTC))
            raise ProviderThrottledError(self.provider, f"throttled (HTTP {status})", pause)
        if status >= 500:
            raise ProviderUnavailableError(self.provider, f"HTTP {status}")
        if status in (401, 403):
            raise ProviderRejectedRequestError(self.provider, f"credentials refused (HTTP {status})")
        return response

    def resource(
        self, method: str, url: str, *, missing: Callable[[requests.Response], bool] = not_held, **kwargs: Any
    ) -> dict[str, Any] | None:
        """A provider's resource for a message: its JSON object, or None when the provider does
        not hold the message.

        The status code is judged first (an error page need not be JSON): a 400 or 404 is "not
        held" when `missing` says so (it may raise for a request the provider refused); any
        other answer but 200 is a bad response.
        """
        response = self.send(method, url, **kwargs)
        if response.status_code in (400, 404) and missing(response):
            return None
        if response.status_code != 200:
            raise ProviderBadResponseError(self.provider, f"HTTP {response.status_code}")
        try:
            body = parse_json(response.content)
        except ValueError:
            raise ProviderBadResponseError(
                self.provider, f"HTTP {response.status_code} with a body that is not JSON"
            ) from None
        if not isinstance(body, dict):
            raise ProviderBadResponseError(
                self.provider, f"HTTP {response.status_code} with a JSON body that is not an object"
            )
        return body
