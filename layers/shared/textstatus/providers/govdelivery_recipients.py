"""GovDelivery TMS's recipient lists: `GET /messages/sms/{id}/recipients` (and `/failed`, `/sent`),
pages of 50 with an RFC 8288 `Link` header, 202 while TMS is still building the list.

Read on request, never stored: a recipient is a phone number. The number is masked to its last
four digits here, as soon as it is read, and nothing of a recipient is ever logged.

TMS's `next` link is never called as given: only its page number is read from it (after checking
it names the list we asked for, at our configured base URL), and the next request is built from
the base URL, the message id and that number, so nothing TMS (or anyone) puts in a link can make
us fetch another URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from pydantic import Field

from textstatus.clock import provider_time
from textstatus.errors import ProviderBadResponseError
from textstatus.events import is_valid_message_id, storable_text
from textstatus.personal import is_personal_id, masked_phone, redact_personal
from textstatus.providers.base import Outcome, Recipient, RecipientPage
from textstatus.providers.govdelivery_payloads import last_segment, numeric_or_text_id
from textstatus.providers.http import ProviderHttp, retry_after_seconds
from textstatus.providers.payloads import (
    MAX_PROVIDER_DETAIL,
    MAX_PROVIDER_STATUS,
    Object,
    OptionalString,
    OptionalText,
    Payload,
    parse_json,
    parse_payload,
    provider_answer_error,
)
from textstatus.status import Reason

if TYPE_CHECKING:
    import requests

# TMS pages hold 50; a "page" far beyond that is not TMS's paging, and would not fit an answer.
MAX_RECIPIENTS_PER_PAGE = 500
# A page number we follow (up to 9,999,999: TMS's lists end long before).
_PAGE = re.compile(r"[1-9][0-9]{0,6}")


class GovdeliveryRecipient(Payload):
    """One recipient in a list: its id ends `_links.self` (`/messages/sms/{id}/recipients/{rid}`)."""

    described: ClassVar[str] = "a GovDelivery recipient"
    id: Any = None
    phone: OptionalString = None
    formatted_phone: OptionalString = None
    status: OptionalText = None
    error_message: OptionalText = None
    completed_at: Any = None
    links: Object = Field(default_factory=dict, alias="_links")

    def recipient_id(self) -> str | None:
        named = numeric_or_text_id(self.id) if self.id is not None else last_segment(self.links.get("self"))
        return named if is_valid_message_id(named) and not is_personal_id(named or "") else None


def recipients_path(message_id: str, listing: str | None) -> str:
    return f"/messages/sms/{message_id}/recipients" + (f"/{listing}" if listing else "")


def read_page(
    http: ProviderHttp,
    base_url: str,
    token: str,
    message_id: str,
    listing: str | None,
    page: int,
    now: datetime,
    outcomes: Mapping[str, Outcome],
) -> RecipientPage | None:
    """One TMS page of the message's recipients (all, or TMS's own `failed`/`sent` list); None when
    TMS does not know the message."""
    path = recipients_path(message_id, listing)
    response = http.send(
        "GET",
        base_url + path,
        params={"page": str(page)} if page > 1 else None,
        headers={"Accept": "application/json", "X-AUTH-TOKEN": token},
    )
    if response.status_code == 202:
        # "Recipient list is being built and is not yet complete".
        return RecipientPage([], retry_after=retry_after_seconds(response.headers.get("Retry-After"), now))
    if response.status_code in (400, 404):
        return None
    if response.status_code != 200:
        raise ProviderBadResponseError(http.provider, f"HTTP {response.status_code} for a recipient list")
    try:
        body = parse_json(response.content)
    except ValueError:
        raise ProviderBadResponseError(http.provider, "a recipient list that is not JSON") from None
    if not isinstance(body, list) or len(body) > MAX_RECIPIENTS_PER_PAGE:
        raise ProviderBadResponseError(http.provider, "a recipient list that is not a list of up to 500")
    error = provider_answer_error(http.provider)
    recipients = [recipient(parse_payload(GovdeliveryRecipient, raw, error), now, outcomes) for raw in body]
    return RecipientPage(recipients, next_page(http.provider, response, base_url, path, page))


def recipient(raw: GovdeliveryRecipient, now: datetime, outcomes: Mapping[str, Outcome]) -> Recipient:
    word = storable_text(raw.status)[:MAX_PROVIDER_STATUS] if raw.status else None
    outcome = outcomes.get(word.lower()) if word else None
    return Recipient(
        recipient_id=raw.recipient_id(),
        phone=masked_phone(raw.formatted_phone, raw.phone),
        status=outcome.status if outcome else None,
        reason=outcome.reason if outcome else Reason.UNKNOWN,
        provider_status=word,
        error_message=redact_personal(storable_text(raw.error_message))[:MAX_PROVIDER_DETAIL]
        if raw.error_message
        else None,
        completed_at=provider_time(raw.completed_at, now),
    )


def next_page(provider: str, response: requests.Response, base_url: str, path: str, page: int) -> int | None:
    """The page number of TMS's `rel="next"` link; None on the last page.

    The link must name the list we asked for (relative, as TMS writes it, or at our base URL)
    with a later page, as `?page=N` (TMS's docs) or `/page/N` (its routes): anything else is a bad
    response, since reading past a link we cannot follow would silently drop recipients.
    """
    from requests.utils import parse_header_links

    # TMS ends every link with a comma, which `parse_header_links` would read into the last `rel`.
    header = (response.headers.get("Link") or "").strip().rstrip(",")
    found = [link["url"] for link in parse_header_links(header) if "next" in link.get("rel", "").split()]
    if not found:
        return None
    base = urlsplit(base_url)
    try:
        url = urlsplit(found[0])
    except ValueError:
        url = None
    number: str | None = None
    if url is not None and (url.scheme, url.netloc) in (("", ""), (base.scheme, base.netloc)):
        resource = url.path.removeprefix(base.path.rstrip("/"))
        pages = parse_qs(url.query).get("page", [])
        if resource.rstrip("/") == path and len(pages) == 1:
            number = pages[0]
        elif resource.startswith(path + "/page/") and not url.query:
            number = resource.removeprefix(path + "/page/").rstrip("/")
    if number is None or not _PAGE.fullmatch(number) or int(number) <= page:
        raise ProviderBadResponseError(provider, "a recipient list whose next-page link we cannot follow")
    return int(number)
