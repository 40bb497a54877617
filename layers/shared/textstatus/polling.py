"""The poller: asks providers about the messages that are due, never reading the whole table."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from textstatus.clock import utcnow
from textstatus.config import Settings
from textstatus.errors import (
    ConfigurationError,
    ProviderError,
    ProviderThrottledError,
    StorageUnavailableError,
    TextStatusError,
)
from textstatus.events import Source
from textstatus.observability import count, logger, publish
from textstatus.store import POLL_SHARDS, DueCursor, DueMessage, MessageStore
from textstatus.tracking import Tracker

# Leave this much of the Lambda's time unused: enough for one provider call to time out
# and its result to be written, so a run never stops half-way through a message.
MIN_SAFETY_MARGIN_MS = 5_000
# After this many failures in a row, a provider is left alone for the rest of the run: its
# remaining messages back off without a call, so a dead provider costs one run a few timeouts,
# not its whole time budget.
CONSECUTIVE_FAILURE_LIMIT = 5
OUTCOMES = (
    "due",
    "polled",
    "changed",
    "unchanged",
    "failed",
    "throttled",
    "expired",
    "deferred",
    "skipped",
    "errors",
)


@dataclass
class PollSummary:
    """What one run did. `deferred`: not asked because its provider was failing; `skipped`:
    left due because the run was out of time; `errors`: failed for a reason we did not
    expect (a bug, a secret that could not be read), counted in `failed` too."""

    due: int = 0
    polled: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    throttled: int = 0
    expired: int = 0
    deferred: int = 0
    skipped: int = 0
    errors: int = 0
    oldest_lag_seconds: float = 0.0
    failing_providers: list[str] = field(default_factory=list)
    by_provider: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def add(self, provider: str, outcome: str) -> None:
        # A poll that got an answer counts as polled as well as changed or unchanged.
        for name in (outcome, "polled") if outcome in ("changed", "unchanged") else (outcome,):
            setattr(self, name, getattr(self, name) + 1)
            self.by_provider[provider][name] += 1


class Poller:
    def __init__(
        self, tracker: Tracker, store: MessageStore, settings: Settings, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._tracker = tracker
        self._store = store
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._paused_until: dict[str, datetime] = {}
        self._failures_in_a_row: dict[str, int] = defaultdict(int)
        self._safety_ms = max(
            MIN_SAFETY_MARGIN_MS,
            int((settings.http_connect_timeout_seconds + settings.http_read_timeout_seconds) * 1000) + 2_000,
        )

    def due_messages(self, now: datetime) -> list[DueMessage]:
        """Up to the per-run budget of due messages, oldest first, from the shards of the index.

        Each round shares what is left of the budget between the shards that may hold more,
        so a run reads about as many index items as it polls, however the work is spread.
        """
        budget = self._settings.poll_batch_size
        store = self._store
        cursors: dict[int, DueCursor] = dict.fromkeys(range(POLL_SHARDS))
        due: list[DueMessage] = []
        while cursors and len(due) < budget:
            share = max(1, -(-(budget - len(due)) // len(cursors)))
            for shard, start in list(cursors.items()):
                page, cursors[shard] = store.due(shard, now, min(share, budget - len(due)), start)
                due.extend(page)
                if cursors[shard] is None or not page:
                    del cursors[shard]
                if len(due) >= budget:
                    break
        due.sort(key=lambda message: message.next_poll_at)
        return due

    def run(self, remaining_ms: Callable[[], int]) -> PollSummary:
        """One scheduled run. Stops taking new work before the Lambda's time runs out."""
        started = self._clock()
        self._paused_until.clear()
        self._failures_in_a_row.clear()
        summary = PollSummary()
        due = self.due_messages(started)
        summary.due = len(due)
        if due:
            summary.oldest_lag_seconds = max(0.0, (started - due[0].next_poll_at).total_seconds())
        by_provider: dict[str, list[DueMessage]] = defaultdict(list)
        for message in due:
            by_provider[message.provider].append(message)
            summary.by_provider[message.provider]["due"] += 1
        # One pool per provider: a slow provider fills its own workers, never another's.
        pools = {
            provider: ThreadPoolExecutor(self._settings.poll_concurrency, thread_name_prefix=f"poll-{provider}")
            for provider in by_provider
        }
        try:
            futures = [
                pools[provider].submit(self._poll_one, message, remaining_ms, summary)
                for provider, messages in by_provider.items()
                for message in messages
            ]
            for future in futures:
                future.result()
        finally:
            for pool in pools.values():
                pool.shutdown(wait=True)
        summary.failing_providers = sorted(
            p for p, n in self._failures_in_a_row.items() if n >= CONSECUTIVE_FAILURE_LIMIT
        )
        self._publish(summary, started, due)
        return summary

    def _poll_one(self, message: DueMessage, remaining_ms: Callable[[], int], summary: PollSummary) -> None:
        provider, message_id = message.provider, message.message_id
        log = {"provider": provider, "message_id": message_id}
        if remaining_ms() < self._safety_ms:
            with self._lock:
                summary.add(provider, "skipped")
            return
        now = self._clock()
        if self._failures_in_a_row[provider] >= CONSECUTIVE_FAILURE_LIMIT:
            try:
                self._backoff(message, now, self._tracker.deadline(provider, message.created_at))
            except TextStatusError:
                logger.exception("could not defer message", extra=log)
            with self._lock:
                summary.add(provider, "deferred")
            return
        try:
            deadline = self._tracker.deadline(provider, message.created_at)
            if now >= deadline:
                self._tracker.expire(provider, message_id, deadline)
                outcome = "expired"
            else:
                outcome = self._poll(message, now, deadline)
        except StorageUnavailableError:
            # The store is down: the message stays due and the next run tries again.
            logger.exception("storage unavailable while polling", extra=log)
            outcome = "failed"
        except Exception as exc:  # noqa: BLE001 - one message must never fail the run
            if isinstance(exc, TextStatusError) and not isinstance(exc, ConfigurationError):
                logger.exception("could not poll message", extra=log)
                outcome = "failed"
            else:
                # Anything else (a bug, a secret that could not be read: ConfigurationError) fails
                # this message only: the run goes on, publishes its metrics and is not retried whole.
                logger.exception("unexpected error while polling message", extra=log)
                self._backoff_quietly(message, now, log)
                outcome = "failed"
                with self._lock:
                    summary.errors += 1
                    summary.by_provider[provider]["errors"] += 1
        with self._lock:
            summary.add(provider, outcome)
            if outcome == "failed":
                self._failures_in_a_row[provider] += 1
                if self._failures_in_a_row[provider] == CONSECUTIVE_FAILURE_LIMIT:
                    logger.error("provider failing: its messages wait for the next run", extra={"provider": provider})
            elif outcome != "throttled":
                self._failures_in_a_row[provider] = 0

    def _poll(self, message: DueMessage, now: datetime, deadline: datetime) -> str:
        provider, message_id = message.provider, message.message_id
        paused_until = self._paused_until.get(provider)
        if paused_until is not None and now < paused_until:
            self._store.reschedule(provider, message_id, paused_until, message.poll_attempt, now)
            return "throttled"
        adapter = self._tracker.adapter(provider)
        try:
            observation = adapter.fetch_status(message_id, now)
        except ProviderThrottledError as exc:
            resume = now + timedelta(seconds=exc.retry_after)
            with self._lock:
                self._paused_until[provider] = max(resume, self._paused_until.get(provider, resume))
            logger.warning(
                "provider throttled: pausing it", extra={"provider": provider, "retry_after": exc.retry_after}
            )
            self._store.reschedule(provider, message_id, resume, message.poll_attempt, now)
            return "throttled"
        except ProviderError as exc:
            logger.warning("poll failed", extra={"provider": provider, "message_id": message_id, "error": exc.code})
            self._backoff(message, now, deadline)
            return "failed"
        if observation is None:
            grace = adapter.not_found_grace
            if grace is not None and now - message.created_at >= grace:
                # The provider still does not know it: it never will (USAJOBS has no pending state).
                self._tracker.expire(provider, message_id, message.created_at + grace)
                return "expired"
        elif self._tracker.ingest(observation, Source.POLL, now).changed:
            return "changed"
        self._backoff(message, now, deadline)
        return "unchanged"

    def _backoff_quietly(self, message: DueMessage, now: datetime, log: dict[str, str]) -> None:
        """Back a message off after an unexpected error, without needing its provider."""
        try:
            deadline = message.created_at + timedelta(hours=self._settings.tracking_deadline_hours)
            self._backoff(message, now, deadline)
        except Exception:  # noqa: BLE001 - one message must never fail the run
            logger.exception("could not back off message", extra=log)

    def _backoff(self, message: DueMessage, now: datetime, deadline: datetime) -> None:
        attempt = message.poll_attempt + 1
        next_poll = min(self._tracker.next_poll_at(now, attempt), deadline)
        self._store.reschedule(message.provider, message.message_id, next_poll, attempt, now)

    def _publish(self, summary: PollSummary, started: datetime, due: list[DueMessage]) -> None:
        """Run totals (no dimension) and, per provider, its counts and the lag of its oldest due message."""
        for name in OUTCOMES:
            count(f"Poll{name.capitalize()}", getattr(summary, name))
        oldest: dict[str, datetime] = {}
        for message in due:
            oldest.setdefault(message.provider, message.next_poll_at)
        for provider, counts in summary.by_provider.items():
            lag = max(0.0, (started - oldest[provider]).total_seconds()) if provider in oldest else 0.0
            failing = int(provider in summary.failing_providers)
            publish(
                {"provider": provider},
                {f"Poll{name.capitalize()}": counts.get(name, 0) for name in OUTCOMES} | {"ProviderFailing": failing},
                {"PollLagSeconds": lag},
            )
        logger.info(
            "poll run finished",
            extra={name: getattr(summary, name) for name in OUTCOMES}
            | {"oldest_lag_seconds": summary.oldest_lag_seconds, "failing_providers": summary.failing_providers},
        )
