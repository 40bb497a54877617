"""Who a message reached: its recipients as the provider lists them (GovDelivery TMS), read from
the provider on request and never stored, since each recipient is a phone number.

A listing the provider has on its own (TMS's `failed` and `sent`) is read page for page: one
provider page per answer. Any other status is filtered from the whole list, so one answer may read
several provider pages to find matches, but never more than MAX_PROVIDER_PAGES_PER_ANSWER, and it
starts another only while one more call (both its timeouts) still fits in the function's remaining
time: the cursor carries on from the next page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from textstatus.clock import utcnow
from textstatus.config import Settings
from textstatus.errors import MessageNotFoundError, RecipientsNotSupportedError
from textstatus.observability import count
from textstatus.providers.base import ProviderAdapter, Recipient
from textstatus.providers.registry import lists_recipients
from textstatus.tracking import require_known

# A filtered answer reads at most this many provider pages (TMS: 50 recipients each).
MAX_PROVIDER_PAGES_PER_ANSWER = 4
# ...and stops once it holds this many matches.
FILTERED_PAGE_SIZE = 50
# Left over, besides one call's timeouts, before another provider page is read.
CALL_MARGIN_MS = 1_000


@dataclass(frozen=True)
class RecipientListing:
    """One answer: the recipients found, the provider page to read next (None: the end), and
    `retry_after` (seconds) while the provider is still building the list (nothing found yet)."""

    recipients: list[Recipient]
    next_page: int | None
    retry_after: float | None = None


class Recipients:
    """The recipients use case: one answer's worth of a message's recipient list."""

    def __init__(
        self,
        adapters: Callable[[str], ProviderAdapter],
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._adapters = adapters
        self._clock = clock
        self._call_ms = int((settings.http_connect_timeout_seconds + settings.http_read_timeout_seconds) * 1000)

    def page(
        self, provider: str, message_id: str, status: str | None, page: int, remaining_ms: Callable[[], int]
    ) -> RecipientListing:
        """The recipients from provider page `page` on, those with TMS status `status` (any when
        None). Asks the provider whether or not the message is tracked here, as a lookup does."""
        require_known(provider)
        if not lists_recipients(provider):
            raise RecipientsNotSupportedError(f"{provider} messages have one recipient each: there is no list")
        adapter = self._adapters(provider)
        listing = status if status in adapter.recipient_listings else None
        wanted = status if listing is None else None
        found: list[Recipient] = []
        now = self._clock()
        reads = 0
        while True:
            got = adapter.recipients(message_id, listing, page, now)
            reads += 1
            count("RecipientPagesRead")
            if got is None:
                raise MessageNotFoundError(f"no {provider} message with this id is known to the provider")
            if got.retry_after is not None:
                # Still being built: what was found so far, and this page again later.
                return RecipientListing(found, page, None if found else got.retry_after)
            found += [r for r in got.recipients if wanted is None or (r.provider_status or "").lower() == wanted]
            following = got.next_page
            if (
                following is None
                or wanted is None
                or len(found) >= FILTERED_PAGE_SIZE
                or reads >= MAX_PROVIDER_PAGES_PER_ANSWER
                or remaining_ms() < self._call_ms + CALL_MARGIN_MS
            ):
                return RecipientListing(found, following)
            page = following
