"""Registration use cases: start tracking a message by id, or every message a send response names.

A mixin of `Tracker` (what it needs of the tracker is declared below), so the tracker's module
stays about taking in reports.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textstatus.errors import ProviderError
from textstatus.events import Observation, ReceivedEvent, Source, storable_text
from textstatus.observability import count, logger
from textstatus.providers.base import ProviderAdapter, SentMessage
from textstatus.status import Status
from textstatus.store import MessageStore, Registration

if TYPE_CHECKING:
    from textstatus.tracking import Ingested


@dataclass(frozen=True)
class SendResponseRegistration:
    """The messages a send response named, tracked; and why any of its elements were not."""

    registrations: list[Registration]
    ignored: list[str]


class Registering(ABC):
    _store: MessageStore
    _clock: Callable[[], datetime]

    @abstractmethod
    def adapter(self, provider: str) -> ProviderAdapter: ...

    @abstractmethod
    def next_poll_at(self, now: datetime, attempt: int) -> datetime: ...

    @abstractmethod
    def ingest(self, observation: Observation, source: Source, received_at: datetime | None = None) -> Ingested: ...

    @abstractmethod
    def _confirm(
        self, adapter: ProviderAdapter, claim: Observation, source: Source, now: datetime
    ) -> tuple[bool, Observation | None]: ...

    def register(
        self,
        provider: str,
        message_id: str,
        reference: str | None = None,
        metadata: Mapping[str, str] | None = None,
        first: Observation | None = None,
    ) -> Registration:
        """Start tracking a message (idempotent). `first` is the provider's own first word, if any."""
        self.adapter(provider)  # unknown providers are refused before anything is stored
        now = self._clock()
        if first is not None and first.event_at > now:
            # A send response speaks of the message when it was sent: never of the future.
            first = replace(first, event_at=now)
        known = first is not None and first.status is not None
        observation = first if first is not None and known else self._registered(provider, message_id, now)
        event = ReceivedEvent(observation, Source.REGISTRATION, now)
        registration = self._store.register(event, reference, metadata, self.next_poll_at(now, 0))
        if first is not None and not known:
            # The send response's own word is one we do not know: kept in the history all the same.
            self.ingest(first, Source.REGISTRATION, now)
        if registration.created:
            count("MessagesRegistered")
        return registration

    def register_send_response(
        self,
        provider: str,
        payload: Any,
        reference: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> SendResponseRegistration:
        """Start tracking every usable message named in a provider's own send response; the
        elements that were not usable are reported, never a reason to drop the others."""
        now = self._clock()
        adapter = self.adapter(provider)
        named = adapter.messages_in_send_response(payload, now)
        ignored = [storable_text(reason) for reason in named.ignored]
        if ignored:
            logger.warning("send response elements not usable", extra={"provider": provider, "ignored": ignored[:20]})
            count("RegistrationItemsInvalid", len(ignored))
        return SendResponseRegistration(self._register_sent(adapter, named.messages, reference, metadata, now), ignored)

    def _register_sent(
        self,
        adapter: ProviderAdapter,
        sent: list[SentMessage],
        reference: str | None,
        metadata: Mapping[str, str] | None,
        now: datetime,
    ) -> list[Registration]:
        provider = adapter.name
        if len(sent) == 1:
            first = sent[0].first
            if first is not None and sent[0].needs_confirmation:
                first = self._confirmed_first(adapter, first, now)
            return [self.register(provider, sent[0].message_id, reference, metadata, first=first)]
        unique = {m.message_id: m for m in sent}
        # Batch send responses (Comapi's 202) name messages without a status.
        events = [
            ReceivedEvent(self._registered(provider, m.message_id, now), Source.REGISTRATION, now)
            for m in unique.values()
        ]
        registrations = self._store.register_many(events, reference, metadata, self.next_poll_at(now, 0))
        count("MessagesRegistered", sum(r.created for r in registrations))
        return registrations

    def _confirmed_first(self, adapter: ProviderAdapter, claim: Observation, now: datetime) -> Observation | None:
        """A send response's word that only the provider can confirm: the claim is kept in the
        history, the provider's own answer is the first word. If the provider cannot be asked
        now, the message is registered by id alone and the poller asks later."""
        try:
            return self._confirm(adapter, claim, Source.REGISTRATION, now)[1]
        except ProviderError as exc:
            logger.warning(
                "could not confirm a send response with the provider: registered by id",
                extra={"provider": adapter.name, "message_id": claim.message_id, "error": exc.code},
            )
            return None

    @staticmethod
    def _registered(provider: str, message_id: str, now: datetime) -> Observation:
        """A registration by id alone: the provider has the message, nothing more is known."""
        return Observation(
            provider=provider,
            message_id=message_id,
            status=Status.ACCEPTED,
            reason=None,
            provider_status=None,
            event_at=now,
        )
