"""DynamoDB access: the only package that speaks DynamoDB, and it hands out typed records.

- `encoding`: the table's keys and the one mapping between records and items;
- `records`: what the store hands out (`StatusRecord`, `HistoryEntry`, `DueMessage`, `CreatedMessage`,
  `Registration`);
- `requests`: botocore's errors read in one place, and what reads and writes share;
- `updates`: the status item's UpdateItem builder;
- `messages`: reads, the history, and the conditional status update (the ordering rule);
- `reports`: the outcomes report's reads (`created-index`, then the messages' statuses);
- `registration`: `MessageStore`, which adds registration (single and batch) to `messages` and `reports`.
"""

from textstatus.store.encoding import POLL_SHARDS, DueCursor
from textstatus.store.records import CreatedMessage, DueMessage, HistoryEntry, Registration, StatusRecord
from textstatus.store.registration import MessageStore
from textstatus.store.reports import Slice

__all__ = [
    "POLL_SHARDS",
    "CreatedMessage",
    "DueCursor",
    "DueMessage",
    "HistoryEntry",
    "MessageStore",
    "Registration",
    "Slice",
    "StatusRecord",
]
