"""What every provider adapter is: its mapping table, its status call, its callbacks, its send
responses. How it talks HTTP is `providers.http`, how it reads callbacks `providers.callbacks`,
how it reads payloads and values `providers.payloads`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Self

from textstatus.config import ProviderSettings
from textstatus.errors import (
    CallbacksNotSupportedError,
    ProviderBadResponseError,
    RecipientsNotSupportedError,
    TextStatusError,
)
from textstatus.events import Observation
from textstatus.personal import redact_personal

# CallbackRequest is named here too: the callbacks function imports it from this module.
from textstatus.providers.callbacks import CallbackRequest as CallbackRequest
from textstatus.providers.callbacks import ParsedCallback
from textstatus.providers.http import HttpSettings, ProviderHttp
from textstatus.providers.payloads import (
    MAX_PROVIDER_STATUS,
    Payload,
    callback_error,
    join_detail,
    parse_payload,
    provider_answer_error,
    send_response_error,
)
from textstatus.status import Reason, Status


@dataclass(frozen=True)
class Outcome:
    """One cell of a provider's mapping table."""

    status: Status | None
    reason: Reason | None = None


# A word we do not know is kept, with reason `unknown`, and never changes the status.
UNKNOWN_OUTCOME = Outcome(None, Reason.UNKNOWN)


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
class Recipient:
    """One recipient of a message as the provider lists it: never stored (personal data), and
    its phone number only ever masked to its last four digits."""

    recipient_id: str | None
    phone: str | None
    status: Status | None
    reason: Reason | None
    provider_status: str | None
    error_message: str | None
    completed_at: datetime | None


@dataclass(frozen=True)
class RecipientPage:
    """One of the provider's pages of a message's recipients, and the number of the next one
    (None on the last). `retry_after` is set, and the page empty, while the provider is still
    building the list: ask again after that many seconds."""

    recipients: list[Recipient]
    next_page: int | None = None
    retry_after: float | None = None


class ProviderAdapter(ABC):
    """One provider: its status words, its status API, its callbacks.

    An adapter never touches the store and never reads the environment: the registry hands it
    its settings. It turns what the provider says into Observations and raises the errors of
    `textstatus.errors` for what went wrong.
    """

    name: ClassVar[str]
    statuses: ClassVar[Mapping[str, Outcome]]
    # The model of this provider's settings (the registry loads it once per cold start).
    settings_model: ClassVar[type[ProviderSettings]]
    # How long the provider keeps a message's status; None when not documented.
    retention: ClassVar[timedelta | None] = None
    # HTTP methods the provider's callbacks use; empty for a provider without callbacks.
    callback_methods: ClassVar[frozenset[str]] = frozenset({"POST"})
    # True when `confirm` replaces a report (callback or send response) with the provider's
    # own answer: the report itself is then only a claim, for the history.
    confirms_reports: ClassVar[bool] = False
    # False when the provider's words are looked up in lower case (`statuses` in lower case).
    words_match_case: ClassVar[bool] = True
    # True when a message can have many recipients and `recipients` lists them; the statuses
    # the provider lists on their own (the others are filtered from the whole list).
    lists_recipients: ClassVar[bool] = False
    recipient_listings: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, settings: ProviderSettings, http: HttpSettings) -> None:
        if not isinstance(settings, self.settings_model):
            raise TypeError(f"{self.name} needs {self.settings_model.__name__}")
        self.settings = settings
        self.http = ProviderHttp(self.name, http)
        self.base_url = settings.base_url.rstrip("/")

    @classmethod
    def from_config(cls, settings: ProviderSettings, http: HttpSettings) -> Self:
        """The adapter for its settings (an instance of `settings_model`, loaded by the registry)."""
        return cls(settings, http)

    @property
    def not_found_grace(self) -> timedelta | None:
        """How long "the provider does not know this message" may mean "no receipt yet".

        After it, the poller marks the message expired (timeout). None: keep polling until
        the tracking deadline.
        """
        return None

    # Reading payloads (one place turns a payload we cannot use into the error of its kind) --

    def read_answer[ModelT: Payload](self, model: type[ModelT], body: Any) -> ModelT:
        """The provider's answer to our call; ProviderBadResponseError if it is not `model`."""
        return parse_payload(model, body, provider_answer_error(self.name))

    def fetch_answer[ModelT: Payload](
        self, model: type[ModelT], method: str, url: str, *, about: str, **kwargs: Any
    ) -> ModelT | None:
        """GET or POST the provider's resource for message `about`: its answer as `model`, or None
        when the provider does not hold the message (see `ProviderHttp.resource`). An answer
        that names another message is a bad response, never evidence about this one."""
        body = self.http.resource(method, url, **kwargs)
        if body is None:
            return None
        answer = self.read_answer(model, body)
        for named in answer.names():
            if isinstance(named, str | int) and not isinstance(named, bool) and str(named) != about:
                raise ProviderBadResponseError(self.name, "an answer about another message")
        return answer

    @staticmethod
    def read_callback[ModelT: Payload](model: type[ModelT], data: Any) -> ModelT:
        """A callback's payload; InvalidCallbackError (400) if it is not `model`."""
        return parse_payload(model, data, callback_error)

    @staticmethod
    def read_send_response[ModelT: Payload](model: type[ModelT], data: Any) -> ModelT:
        """A send response the caller gave us; InvalidRequestError (400, sendResponse) if not `model`."""
        return parse_payload(model, data, send_response_error)

    # Mapping -----------------------------------------------------------------------------

    @classmethod
    def canonical_word(cls, raw: str) -> str:
        """How a raw status word is looked up in `statuses`. Adapters may normalize more."""
        word = raw.strip()
        return word if cls.words_match_case else word.lower()

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
        of any size never becomes an item DynamoDB refuses; and phone numbers and emails in them
        are masked (a carrier's error text quotes the number), so none is stored.
        """
        mapped = outcome if outcome is not None else self.outcome(provider_status)
        return Observation(
            provider=self.name,
            message_id=message_id,
            status=mapped.status,
            reason=mapped.reason,
            provider_status=redact_personal(provider_status)[:MAX_PROVIDER_STATUS],
            event_at=event_at,
            provider_detail=join_detail(redact_personal(detail) if detail else None),
            provider_gave_time=provider_gave_time,
            **extra,
        )

    # Provider API ------------------------------------------------------------------------

    @abstractmethod
    def fetch_status(self, message_id: str, now: datetime) -> Observation | None:
        """Ask the provider for the message's status; None when the provider does not know it.

        An answer without a status is a ProviderBadResponseError (its model requires one)."""

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

    def _no_callbacks(self) -> TextStatusError:
        return CallbacksNotSupportedError(f"{self.name} does not send callbacks; its messages are polled")

    def authenticate_callback(self, request: CallbackRequest) -> None:
        """Raise CallbackAuthenticationError unless the request carries the right credentials."""
        raise self._no_callbacks()

    def parse_callback(self, request: CallbackRequest, received_at: datetime) -> ParsedCallback:
        """The status reports in an authenticated callback; InvalidCallbackError if malformed."""
        raise self._no_callbacks()

    def confirm(self, observation: Observation, now: datetime) -> Observation | None:
        """Confirm a report (a callback's, or a send response's claim) with the provider before
        it is trusted. Default: trusted, returned as is.

        With `confirms_reports`, the answer is the provider's own observation, unchanged: nothing
        of the report's text is in it. None when the provider does not know the message (the
        report is then ignored).
        """
        return observation

    # Recipients --------------------------------------------------------------------------

    def recipients(self, message_id: str, listing: str | None, page: int, now: datetime) -> RecipientPage | None:
        """Page `page` (from 1) of the message's recipients, all of them or only the provider's
        own `listing` (one of `recipient_listings`); None when the provider does not know the
        message. Only for an adapter that `lists_recipients`."""
        raise RecipientsNotSupportedError(f"{self.name} messages have one recipient each: there is no list")
