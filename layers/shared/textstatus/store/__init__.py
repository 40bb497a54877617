"""DynamoDB access: the only package that speaks DynamoDB, and it hands out typed records.

- `encoding`: the table's keys and the one mapping between records and items;
- `records`: what the store hands out (`StatusRecord`, `HistoryEntry`, `DueMessage`, `Registration`);
- `requests`: botocore's errors read in one place, and what reads and writes share;
- `updates`: the status item's UpdateItem builder;
- `messages`: reads, the history, and the conditional status update (the ordering rule);
- `registration`: `MessageStore`, which adds registration (single and batch) to `messages`.
"""

from textstatus.store.encoding import POLL_SHARDS, DueCursor
from textstatus.store.records import DueMessage, HistoryEntry, Registration, StatusRecord
from textstatus.store.registration import MessageStore

__all__ = [
    "POLL_SHARDS",
    "DueCursor",
    "DueMessage",
    "HistoryEntry",
    "MessageStore",
    "Registration",
    "StatusRecord",
]
