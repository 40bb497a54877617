"""What the store hands out: typed records, never DynamoDB items."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from textstatus.events import ReceivedEvent, Source
from textstatus.status import Reason, Status


@dataclass(frozen=True)
class StatusRecord:
    """A message's current status, as stored."""

    provider: str
    message_id: str
    status: Status
    reason: Reason | None
    provider_status: str | None
    provider_detail: str | None
    source: Source
    provider_event_at: datetime
    order_key: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    version: int
    segments: Mapping[str, int] | None = None
    recipients: Mapping[str, int] | None = None
    reference: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    registered_at: datetime | None = None
    last_polled_at: datetime | None = None
    next_poll_at: datetime | None = None
    poll_attempt: int | None = None
    # The events whose conditional update changed the status (the history's `changedStatus`).
    changed_by: frozenset[str] = frozenset()

    @property
    def final(self) -> bool:
        return self.status.final


@dataclass(frozen=True)
class HistoryEntry:
    """One event of a message's history, and whether applying it changed the status."""

    event_id: str
    event: ReceivedEvent
    order_key: str | None
    changed_status: bool


@dataclass(frozen=True)
class DueMessage:
    """A non-final message whose next poll time has come (what the due index holds)."""

    provider: str
    message_id: str
    created_at: datetime
    poll_attempt: int
    next_poll_at: datetime


@dataclass(frozen=True, slots=True)
class CreatedMessage:
    """What the outcomes report needs of one message: its current status, when it was created,
    and when it reached its current final status (None while non-final, or for a message that
    became final before `finalAt` was recorded)."""

    message_id: str
    status: Status
    reason: Reason | None
    created_at: datetime
    final_at: datetime | None


@dataclass(frozen=True)
class Registration:
    record: StatusRecord
    created: bool
