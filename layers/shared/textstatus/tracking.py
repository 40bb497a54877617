"""The use cases: look up, register, list, and take in what providers report."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from textstatus.clock import iso, utcnow
from textstatus.config import Settings
from textstatus.correlation import with_reference
from textstatus.errors import (
    CallbacksNotSupportedError,
    InvalidRequestError,
    MessageNotFoundError,
    UnknownProviderError,
)
from textstatus.events import Correlation, Observation, ReceivedEvent, Source
from textstatus.observability import count, logger, publish
from textstatus.providers.base import CallbackRequest, ProviderAdapter
from textstatus.providers.registry import PROVIDER_NAMES
from textstatus.registering import Registering
from textstatus.status import Reason, Status
from textstatus.store import HistoryEntry, MessageStore, StatusRecord

# Events of one callback taken in at once (within the DynamoDB client's connection pool).
CALLBACK_CONCURRENCY = 16
# Stop polling a provider that forgets statuses this long before it does.
RETENTION_SAFETY_MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class Ingested:
    duplicate: bool
    changed: bool
    record: StatusRecord | None


@dataclass(frozen=True)
class CallbackResult:
    accepted: int = 0
    duplicates: int = 0
    ignored: int = 0


class Tracker(Registering):
    """The use cases: take in reports, look up, list, expire; and register (`Registering`)."""

    def __init__(
        self,
        store: MessageStore,
        adapters: Callable[[str], ProviderAdapter],
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._adapters = adapters
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security

    def adapter(self, provider: str) -> ProviderAdapter:
        return self._adapters(provider)

    # Scheduling --------------------------------------------------------------------------

    def deadline(self, provider: str, created_at: datetime) -> datetime:
        """When tracking ends: the tracking deadline, or earlier if the provider forgets sooner."""
        limit = timedelta(hours=self._settings.tracking_deadline_hours)
        retention = self.adapter(provider).retention
        if retention is not None:
            limit = min(limit, retention - RETENTION_SAFETY_MARGIN)
        return created_at + limit

    def next_poll_at(self, now: datetime, attempt: int) -> datetime:
        """Exponential backoff with full jitter between the initial delay and the cap."""
        initial = self._settings.poll_initial_delay_seconds
        cap = min(self._settings.poll_max_backoff_seconds, initial * 2 ** min(attempt, 32))
        return now + timedelta(seconds=self._rng.uniform(initial, cap))

    # Taking in reports -------------------------------------------------------------------

    def ingest(self, observation: Observation, source: Source, received_at: datetime | None = None) -> Ingested:
        """Keep an observation in the history and apply it by the ordering rule.

        At most two writes. A duplicate re-applies the stored copy (not this one), so a
        retry after a failure between the two writes completes the update, and a duplicate
        never changes anything that the first copy did not.
        """
        now = received_at or self._clock()
        stored, duplicate = self._store.record_event(ReceivedEvent(observation, source, now))
        stored = self._with_correlation(stored, observation.correlation)
        kept = stored.observation
        if kept.status is None:
            logger.warning(
                "unknown provider status kept without changing the status",
                extra={
                    "provider": kept.provider,
                    "message_id": kept.message_id,
                    "provider_status": kept.provider_status,
                },
            )
            count("UnknownProviderStatus")
            # Never lost from sight: a message first heard of this way is tracked (`accepted`).
            record = self._store.track_unknown(stored, self.next_poll_at(now, 0))
        else:
            # A poll's change restarts the backoff (the poller does not reschedule it); any other
            # source leaves a scheduled poll where it is (no index rewrite).
            record = self._store.apply(stored, self.next_poll_at(now, 0), reschedule=source is Source.POLL)
        if record is not None:
            publish({"provider": kept.provider, "status": record.status.value}, {"StatusTransitions": 1})
            logger.info(
                "status changed",
                extra={
                    "provider": kept.provider,
                    "message_id": kept.message_id,
                    "status": record.status.value,
                    "source": source.value,
                },
            )
        return Ingested(duplicate=duplicate, changed=record is not None, record=record)

    def _with_correlation(self, event: ReceivedEvent, correlation: Correlation | None) -> ReceivedEvent:
        """The event to apply, with the correlation data of the report as it came (the history keeps
        none, so a stored duplicate brings it back from this copy) and the reference `REFERENCE_KEY`
        names in it. The store keeps both only where the message has none."""
        if correlation is None:
            return event
        observation = event.observation
        key = self._settings.reference_key
        correlation = with_reference(correlation, key, observation.provider, observation.message_id)
        return replace(event, observation=replace(observation, correlation=correlation))

    def receive_callback(self, provider: str, request: CallbackRequest) -> CallbackResult:
        adapter = self.adapter(provider)
        if not adapter.supports_callbacks:
            raise CallbacksNotSupportedError(f"{provider} does not send callbacks; its messages are polled")
        if request.method not in adapter.callback_methods:
            raise InvalidRequestError(
                f"{provider} callbacks use {', '.join(sorted(adapter.callback_methods))}", target="method"
            )
        adapter.authenticate_callback(request)
        now = self._clock()
        parsed = adapter.parse_callback(request, now)

        def take(observation: Observation) -> str:
            if adapter.confirms_reports:
                duplicate, confirmed = self._confirm(adapter, observation, Source.CALLBACK, now)
                if confirmed is None:
                    return "ignored"
                self.ingest(confirmed, Source.CALLBACK, now)
            else:
                duplicate = self.ingest(observation, Source.CALLBACK, now).duplicate
            return "duplicate" if duplicate else "accepted"

        outcomes = _each_message(take, parsed.observations)
        return CallbackResult(
            accepted=outcomes.count("accepted"),
            duplicates=outcomes.count("duplicate"),
            ignored=parsed.ignored + outcomes.count("ignored"),
        )

    def _confirm(
        self, adapter: ProviderAdapter, claim: Observation, source: Source, now: datetime
    ) -> tuple[bool, Observation | None]:
        """Fetch what the provider itself says about a report it must confirm, then keep the
        report in the history only (nothing at all when the provider does not know the message).

        Returns whether the claim was a duplicate, and the confirmed observation (None when the
        provider does not know the message). The claim never changes the status item; only the
        provider's own answer is applied.
        """
        confirmed = adapter.confirm(claim, now)
        if confirmed is None:
            return False, None
        # Its own id: the provider's answer with the same content is another event, and the
        # claim must never be the one credited with what the provider then says.
        as_claim = replace(claim, provider_event_id=f"claim:{claim.event_id}")
        _, duplicate = self._store.record_event(ReceivedEvent(as_claim, source, now))
        return duplicate, confirmed

    # Client API --------------------------------------------------------------------------

    def status(self, provider: str, message_id: str, refresh: bool = False) -> StatusRecord:
        """The current status; asks the provider when the message is unknown here, or on refresh.

        A stored status is read without the provider's settings: the records of a provider
        this deployment no longer uses stay readable.
        """
        require_known(provider)
        if not refresh:
            record = self._store.get(provider, message_id)
            if record is not None:
                count("LookupsFromTable")
                return record
        adapter = self.adapter(provider)
        count("LookupsFromProvider")
        now = self._clock()
        observation = adapter.fetch_status(message_id, now)
        if observation is not None:
            ingested = self.ingest(observation, Source.LOOKUP, now)
            if ingested.record is not None:
                return ingested.record
        if refresh:
            # Asked, and nothing changed (or the provider no longer knows it): say when we asked.
            touched = self._store.touch_polled(provider, message_id, now)
            if touched is not None:
                return touched
        record = self._store.get(provider, message_id)
        if record is None:
            raise MessageNotFoundError(f"no {provider} message with this id is tracked here or known to the provider")
        return record

    def history(self, provider: str, message_id: str) -> list[HistoryEntry]:
        """Every event, newest first, each marked with whether it changed the current status
        (as recorded by the conditional update that applied it). Needs no provider settings."""
        require_known(provider)
        events, status = self._store.history(provider, message_id)
        if not events and status is None:
            raise MessageNotFoundError(f"no {provider} message with this id is tracked here")
        return list(reversed(events))

    def by_reference(
        self, reference: str, limit: int = 100, after: Mapping[str, str] | None = None
    ) -> tuple[list[StatusRecord], bool]:
        """One page of the messages with this reference, oldest first, after the message `after`;
        and whether more follow (one item more is read to know, so a last page is never full
        of nothing)."""
        items = self._store.by_reference(reference, limit + 1, after)
        return items[:limit], len(items) > limit

    def expire(self, provider: str, message_id: str, deadline: datetime) -> Ingested:
        """No final word before the deadline: `expired`, which a later real outcome still replaces."""
        observation = Observation(
            provider=provider,
            message_id=message_id,
            status=Status.EXPIRED,
            reason=Reason.TIMEOUT,
            provider_status=None,
            event_at=self._clock(),
            provider_detail=f"no final status before {iso(deadline)}",
        )
        return self.ingest(observation, Source.DEADLINE)


def _each_message[R](work: Callable[[Observation], R], observations: list[Observation]) -> list[R]:
    """`work` on every observation of a callback: different messages concurrently, each message's
    own in one go, greatest first by the ordering rule.

    Greatest first, the first one applied is the one that stays: the others of that message are
    kept in the history and change nothing, so a batch counts the same changes whatever order
    it listed them in. Concurrently, a batch of 1,000 events (two requests each) fits within the
    provider's patience (Comapi waits 10 seconds) and the function's timeout; one after another
    it would be retried whole, forever. The first failure is raised, so the provider retries the
    batch; what landed is a duplicate then."""
    by_message: dict[tuple[str, str], list[Observation]] = {}
    for observation in observations:
        by_message.setdefault((observation.provider, observation.message_id), []).append(observation)

    def one_message(group: list[Observation]) -> list[R]:
        return [work(each) for each in sorted(group, key=lambda o: o.order_key or "", reverse=True)]

    groups = list(by_message.values())
    if len(groups) <= 1:
        return [outcome for group in groups for outcome in one_message(group)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(CALLBACK_CONCURRENCY, len(groups)), thread_name_prefix="callback") as pool:
        return [outcome for outcomes in pool.map(one_message, groups) for outcome in outcomes]


def require_known(provider: str) -> None:
    """Refuse a provider this service does not know, without needing its settings."""
    if provider not in PROVIDER_NAMES:
        raise UnknownProviderError(f"unknown provider; expected one of: {', '.join(PROVIDER_NAMES)}")
