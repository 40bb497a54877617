"""Granicus GovDelivery TMS: message status from its recipient counts; callbacks confirmed by a fetch.

TMS callbacks carry no signature. A secret token in the callback URL keeps strangers out, and
every callback is confirmed by fetching the message from TMS before anything is applied, so
the stored status is always what TMS itself says.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from pydantic import Field

from textstatus import config
from textstatus.config import EnvSettings, Secret
from textstatus.errors import (
    CallbackAuthenticationError,
    InvalidCallbackError,
    InvalidRequestError,
    ProviderBadResponseError,
)
from textstatus.events import Observation, is_valid_message_id
from textstatus.providers.base import (
    CallbackRequest,
    HttpSettings,
    Outcome,
    ParsedCallback,
    ProviderAdapter,
    SentMessage,
    SentMessages,
    bounded_count,
    credentials_match,
    first_usable_time,
    join_detail,
    parse_json,
)
from textstatus.status import Reason, Status


class GovdeliverySettings(EnvSettings):
    base_url: str = Field("https://tms.govdelivery.com", alias="GOVDELIVERY_BASE_URL", pattern=r"^https?://")
    token: Secret = Field(alias="GOVDELIVERY_TOKEN")
    callback_token: Secret = Field(alias="GOVDELIVERY_CALLBACK_TOKEN")


# A recipient's final word, and what it means for a message whose recipients all share it.
RECIPIENT_STATUSES: Mapping[str, Outcome] = {
    "new": Outcome(Status.ACCEPTED),
    "sending": Outcome(Status.SENDING),
    "sent": Outcome(Status.DELIVERED),
    "failed": Outcome(Status.UNDELIVERED, Reason.CARRIER_ERROR),
    "blacklisted": Outcome(Status.REJECTED, Reason.BLACKLISTED),
    "canceled": Outcome(Status.CANCELED),
    "inconclusive": Outcome(Status.UNDELIVERED, Reason.INCONCLUSIVE),
}
FINAL_RECIPIENT_STATUSES = ("sent", "failed", "blacklisted", "canceled", "inconclusive")
# The keys of `recipient_counts` TMS documents; anything else in it is not kept.
COUNT_KEYS = ("total", "new", "sending", *FINAL_RECIPIENT_STATUSES)
# A message id TMS gives as a JSON number: a plain non-negative integer of sane size.
MAX_NUMERIC_ID = 10**18
CALLBACK_FIELDS = ("status", "message_type", "message_url", "recipient_url", "sid", "completed_at", "error_message")


def completed_outcome(counts: Mapping[str, int]) -> Outcome:
    """A completed message's outcome, from its recipient counts (DESIGN.md's mapping)."""
    total = counts.get("total", 0)
    if total <= 0:
        return Outcome(Status.UNDELIVERED, Reason.UNKNOWN)
    for word in FINAL_RECIPIENT_STATUSES:
        if counts.get(word, 0) == total:
            return RECIPIENT_STATUSES[word]
    if counts.get("sent", 0) == 0:
        return Outcome(Status.UNDELIVERED, Reason.UNKNOWN)
    return Outcome(Status.PARTIALLY_DELIVERED)


class GovdeliveryAdapter(ProviderAdapter):
    name = "govdelivery"
    # Callbacks and send responses are claims: `confirm` answers with TMS's own word.
    confirms_reports = True
    statuses: ClassVar[Mapping[str, Outcome]] = {
        "new": Outcome(Status.ACCEPTED),
        "queued": Outcome(Status.ACCEPTED),
        "sending": Outcome(Status.SENDING),
        # `completed` is decided by the recipient counts: see `completed_outcome`.
    }

    def __init__(self, settings: GovdeliverySettings, http: HttpSettings) -> None:
        super().__init__(http)
        self._settings = settings
        self._base_url = settings.base_url.rstrip("/")

    @classmethod
    def from_config(cls, http: HttpSettings) -> GovdeliveryAdapter:
        return cls(config.load(GovdeliverySettings), http)

    @classmethod
    def canonical_word(cls, raw: str) -> str:
        return raw.strip().lower()

    def fetch_status(self, message_id: str, now: datetime) -> Observation | None:
        body = self._get_resource(
            f"{self._base_url}/messages/sms/{message_id}",
            headers={"Accept": "application/json", "X-AUTH-TOKEN": self._settings.token.reveal()},
        )
        if body is None:
            return None
        observation = self.message_observation(message_id, body, now)
        if observation is None:
            raise ProviderBadResponseError(self.name, "a message without a status")
        return observation

    def message_observation(self, message_id: str, message: Mapping[str, Any], now: datetime) -> Observation | None:
        word = message.get("status")
        if not isinstance(word, str) or not word.strip():
            return None
        counts = _counts(message.get("recipient_counts"))
        # Every recipient is final only when the final counts add up to the total: a count we
        # dropped (negative, huge, not an integer) must not make a pending message look done.
        total = counts.get("total", 0)
        all_final = total > 0 and sum(counts.get(key, 0) for key in FINAL_RECIPIENT_STATUSES) == total
        outcome = completed_outcome(counts) if self.canonical_word(word) == "completed" or all_final else None
        finished: datetime | None = None
        notes: list[str] = []
        if outcome is not None:
            finished, notes = first_usable_time([("completed_at", message.get("completed_at"))], now)
        return self.observe(
            message_id,
            word.strip(),
            finished or now,
            provider_gave_time=finished is not None,
            outcome=outcome,
            detail=join_detail(_counts_text(counts), *notes),
            recipients=counts or None,
        )

    # Callbacks -------------------------------------------------------------------------------

    def authenticate_callback(self, request: CallbackRequest) -> None:
        if not credentials_match(request.query.get("token"), self._settings.callback_token.reveal()):
            raise CallbackAuthenticationError("missing or invalid callback token")

    def parse_callback(self, request: CallbackRequest, received_at: datetime) -> ParsedCallback:
        fields = _callback_fields(request)
        message_id = self.require_message_id(_last_segment(fields.get("message_url")))
        status = self.require_word(fields.get("status"))
        recipient = _last_segment(fields.get("recipient_url")) or "?"
        detail = f"recipient {recipient}: {status}"
        if fields.get("error_message"):
            detail += f" ({fields['error_message'][:300]})"
        # What the callback claims, kept only until `confirm` replaces it with TMS's own answer.
        return ParsedCallback(
            [
                self.observe(
                    message_id, status, received_at, detail=detail, outcome=RECIPIENT_STATUSES.get(status.lower())
                )
            ]
        )

    def confirm(self, observation: Observation, now: datetime) -> Observation | None:
        """Trust nothing a callback or a send response says: fetch the message and answer with
        what TMS reports, exactly as TMS reported it.

        Nothing of the claim (its recipient, word or error text) is merged in: a claim TMS does
        not confirm must change nothing, not even the stored detail. The claim itself is what
        `parse_callback` returned, for the history.
        """
        return self.fetch_status(observation.message_id, now)

    # Registration ----------------------------------------------------------------------------

    def messages_in_send_response(self, payload: Any, now: datetime) -> SentMessages:
        """POST /messages/sms answers the message resource; its id ends `_links.self`.

        The resource's status and counts are only a claim (anyone can post a message object
        saying `completed`): `first` is marked to be confirmed by fetching the message.
        """
        if not isinstance(payload, dict):
            raise InvalidRequestError("a GovDelivery send response is a message object", target="sendResponse")
        links = payload.get("_links")
        self_link = links.get("self") if isinstance(links, dict) else None
        raw_id = payload.get("id")
        message_id = _numeric_or_text_id(raw_id) if raw_id is not None else _last_segment(self_link)
        if message_id is None or not is_valid_message_id(message_id):
            raise InvalidRequestError("a GovDelivery send response has _links.self", target="sendResponse")
        claim = self.message_observation(message_id, payload, now)
        return SentMessages([SentMessage(message_id, claim, needs_confirmation=claim is not None)])


def _callback_fields(request: CallbackRequest) -> dict[str, str]:
    """The callback's fields, form-encoded (current docs) or JSON (older docs)."""
    content_type = (request.header("Content-Type") or "").lower()
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidCallbackError("the callback body is not UTF-8") from None
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            document = parse_json(text)
        except ValueError:
            raise InvalidCallbackError("the callback body is not valid JSON") from None
        if not isinstance(document, dict):
            raise InvalidCallbackError("the callback body must be an object")
        # Every field is text in TMS's docs; anything else (a number, an object) is not a field
        # we can read. (`str()` of a very long integer would raise.)
        return {key: document[key] for key in CALLBACK_FIELDS if isinstance(document.get(key), str)}
    pairs = parse_qsl(text, keep_blank_values=False)
    return {key: value for key, value in pairs if key in CALLBACK_FIELDS}


def _last_segment(url: object) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:  # e.g. "http://[" (an unclosed IPv6 host)
        return None
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    return segment or None


def _numeric_or_text_id(raw: object) -> str | None:
    """A message id given as text, or as a JSON integer of sane size (not a bool, not a float)."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < MAX_NUMERIC_ID:
        return str(raw)
    return None


def _counts(raw: Any) -> dict[str, int]:
    """The documented recipient counts that are real counts; any other value is dropped."""
    if not isinstance(raw, dict):
        return {}
    counts = {key: bounded_count(raw.get(key)) for key in COUNT_KEYS}
    return {key: value for key, value in counts.items() if value is not None}


def _counts_text(counts: Mapping[str, int]) -> str | None:
    return ", ".join(f"{key} {value}" for key, value in counts.items() if value) or None
