"""Granicus GovDelivery TMS: message status from its recipient counts; callbacks confirmed by a fetch.

TMS callbacks carry no signature. A secret token in the callback URL keeps strangers out, and
every callback is confirmed by fetching the message from TMS before anything is applied, so
the stored status is always what TMS itself says.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from pydantic import Field

from textstatus.config import ProviderSettings, Secret
from textstatus.errors import CallbackAuthenticationError, InvalidCallbackError, ProviderBadResponseError
from textstatus.events import Observation, is_valid_message_id
from textstatus.personal import is_personal_id
from textstatus.providers.base import Outcome, ProviderAdapter, RecipientPage, SentMessage, SentMessages
from textstatus.providers.callbacks import CallbackRequest, ParsedCallback, credentials_match
from textstatus.providers.govdelivery_payloads import (
    FINAL_RECIPIENT_STATUSES,
    GovdeliveryCallback,
    GovdeliveryMessage,
    GovdeliverySent,
    GovdeliveryStatus,
    counts_text,
)
from textstatus.providers.govdelivery_recipients import read_page
from textstatus.providers.payloads import first_usable_time, join_detail, parse_json
from textstatus.status import Reason, Status

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


def completed_outcome(counts: Mapping[str, int]) -> Outcome:
    """A completed message's outcome, from its recipient counts.

    The mapping: docs/providers.md#recipient-counts-to-a-message-outcome.
    """
    total = counts.get("total", 0)
    if total <= 0:
        return Outcome(Status.UNDELIVERED, Reason.UNKNOWN)
    for word in FINAL_RECIPIENT_STATUSES:
        if counts.get(word, 0) == total:
            return RECIPIENT_STATUSES[word]
    if counts.get("sent", 0) == 0:
        return Outcome(Status.UNDELIVERED, Reason.UNKNOWN)
    return Outcome(Status.PARTIALLY_DELIVERED)


class GovdeliverySettings(ProviderSettings, env_prefix="GOVDELIVERY_"):
    base_url: str = Field("https://tms.govdelivery.com", pattern=r"^https?://")
    token: Secret
    callback_token: Secret


class GovdeliveryAdapter(ProviderAdapter):
    name = "govdelivery"
    settings_model = GovdeliverySettings
    settings: GovdeliverySettings
    # Callbacks and send responses are claims: `confirm` answers with TMS's own word.
    confirms_reports = True
    words_match_case = False
    # A TMS message has many recipients; TMS lists its failed and sent ones on their own.
    lists_recipients = True
    recipient_listings = frozenset({"failed", "sent"})
    statuses: ClassVar[Mapping[str, Outcome]] = {
        "new": Outcome(Status.ACCEPTED),
        "queued": Outcome(Status.ACCEPTED),
        "sending": Outcome(Status.SENDING),
        # `completed` is decided by the recipient counts: see `completed_outcome`.
    }

    def fetch_status(self, message_id: str, now: datetime) -> Observation | None:
        answer = self.fetch_answer(
            GovdeliveryStatus,
            "GET",
            f"{self.base_url}/messages/sms/{message_id}",
            about=message_id,
            headers={"Accept": "application/json", "X-AUTH-TOKEN": self.settings.token.reveal()},
        )
        if answer is None:
            return None
        observation = self.message_observation(message_id, answer, now)
        if observation is not None and observation.status is None and self.canonical_word(answer.status) == "completed":
            # `completed` with counts that do not add up says nothing we can use: ask again later.
            raise ProviderBadResponseError(self.name, "a completed message whose recipient counts do not add up")
        return observation

    def message_observation(
        self, message_id: str, message: Mapping[str, Any] | GovdeliveryMessage, now: datetime
    ) -> Observation | None:
        """A message resource as an observation; None when it has no status we can read."""
        if not isinstance(message, GovdeliveryMessage):
            message = GovdeliveryMessage.model_validate(message)  # lenient: never raises for an object
        if message.status is None:
            return None
        counts = message.recipient_counts
        # The counts decide an outcome only when they add up: every bucket together is the
        # total. A count we dropped (negative, huge, not an integer) or counts that contradict
        # each other must never make a message look done, let alone undelivered.
        total = counts.get("total", 0)
        consistent = total > 0 and sum(value for key, value in counts.items() if key != "total") == total
        all_final = consistent and sum(counts.get(key, 0) for key in FINAL_RECIPIENT_STATUSES) == total
        completed = self.canonical_word(message.status) == "completed"
        outcome = completed_outcome(counts) if consistent and (completed or all_final) else None
        finished: datetime | None = None
        notes: list[str] = []
        if outcome is not None:
            finished, notes = first_usable_time([("completed_at", message.completed_at)], now)
        return self.observe(
            message_id,
            message.status,
            finished or now,
            provider_gave_time=finished is not None,
            outcome=outcome,
            detail=join_detail(counts_text(counts), *notes),
            recipients=counts or None,
        )

    def recipients(self, message_id: str, listing: str | None, page: int, now: datetime) -> RecipientPage | None:
        """One TMS page (50) of the message's recipients, each mapped like a recipient callback."""
        token = self.settings.token.reveal()
        return read_page(self.http, self.base_url, token, message_id, listing, page, now, RECIPIENT_STATUSES)

    # Callbacks -------------------------------------------------------------------------------

    def authenticate_callback(self, request: CallbackRequest) -> None:
        # One token: `?token=guess&token=<real>` must not pass because the last value wins.
        tokens = request.query_values.get("token", [])
        if not credentials_match(tokens[0] if len(tokens) == 1 else None, self.settings.callback_token.reveal()):
            raise CallbackAuthenticationError("missing or invalid callback token")

    def parse_callback(self, request: CallbackRequest, received_at: datetime) -> ParsedCallback:
        callback = self.read_callback(GovdeliveryCallback, _callback_fields(request))
        detail = f"recipient {callback.recipient or '?'}: {callback.status}"
        if callback.error_message:
            detail += f" ({callback.error_message[:300]})"
        # What the callback claims, kept only until `confirm` replaces it with TMS's own answer.
        outcome = RECIPIENT_STATUSES.get(callback.status.lower())
        # The recipient's id (the end of `recipient_url`) is kept with the claim, for the history.
        # Not one shaped like a phone number or an email (a mangled URL): the detail masks it too.
        usable = is_valid_message_id(callback.recipient) and not is_personal_id(callback.recipient or "")
        recipient = callback.recipient if usable else None
        return ParsedCallback(
            [
                self.observe(
                    callback.message_id,
                    callback.status,
                    received_at,
                    detail=detail,
                    outcome=outcome,
                    recipient_id=recipient,
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
        sent = self.read_send_response(GovdeliverySent, payload)
        claim = self.message_observation(sent.message_id, sent, now)
        return SentMessages([SentMessage(sent.message_id, claim, needs_confirmation=claim is not None)])


def _callback_fields(request: CallbackRequest) -> Any:
    """The callback's fields, form-encoded (current docs) or JSON (older docs)."""
    content_type = (request.header("Content-Type") or "").lower()
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidCallbackError("the callback body is not UTF-8") from None
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            return parse_json(text)
        except ValueError:
            raise InvalidCallbackError("the callback body is not valid JSON") from None
    return dict(parse_qsl(text, keep_blank_values=False))
