"""The outcomes report's reads: the messages a provider was given in a window, never a scan.

`created-index` (`provider` -> `createdAt`, keys only) holds every status item and nothing else.
Neither key ever changes, so a message enters it once, when it is created: one index write a
message, whatever happens to it later. A report reads it in slices of the window, several at once:
each slice is one paged Query for the keys, then BatchGetItem (100 keys at a time, eventually
consistent, only the attributes the report needs) for the messages' current statuses. Items whose
TTL has passed are left out, as every read does, even before DynamoDB deletes them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from textstatus.clock import epoch_seconds, iso
from textstatus.errors import StorageUnavailableError
from textstatus.store.encoding import CREATED_INDEX, STATUS_SK, created_message
from textstatus.store.records import CreatedMessage
from textstatus.store.requests import Table, dynamodb_errors

# Slices read at once (within the DynamoDB client's connection pool of 16).
REPORT_WORKERS = 8
BATCH_GET_KEYS = 100  # DynamoDB's limit
BATCH_GET_ATTEMPTS = 8
_PROJECTION = "messageId, #status, reason, createdAt, finalAt, expiresAt"
_ONE_MICROSECOND = timedelta(microseconds=1)

# A slice as (start, end): the messages created at or after start and before end.
Slice = tuple[datetime, datetime]


class CreatedMessages(Table):
    """The store's reads for the outcomes report (mixed into `MessageStore`)."""

    def created_in(
        self, provider: str, slices: Sequence[Slice], keep_going: Callable[[], bool]
    ) -> list[list[CreatedMessage] | None]:
        """The live messages of `provider` created in each slice, in the order given; None for a
        slice not read to its end because `keep_going` said stop (checked before every request).

        Slices are read `REPORT_WORKERS` at a time, earliest first.
        """
        if not slices:
            return []
        workers = min(REPORT_WORKERS, len(slices))
        with ThreadPoolExecutor(workers, thread_name_prefix="report") as pool:
            futures = [pool.submit(self._slice, provider, start, end, keep_going) for start, end in slices]
            return [future.result() for future in futures]

    def _slice(
        self, provider: str, start: datetime, end: datetime, keep_going: Callable[[], bool]
    ) -> list[CreatedMessage] | None:
        messages: list[CreatedMessage] = []
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": CREATED_INDEX,
            # createdAt has a fixed width and microseconds: BETWEEN start and end - 1 us is [start, end).
            "KeyConditionExpression": "provider = :provider AND createdAt BETWEEN :start AND :last",
            "ExpressionAttributeValues": {
                ":provider": {"S": provider},
                ":start": {"S": iso(start)},
                ":last": {"S": iso(end - _ONE_MICROSECOND)},
            },
            "ProjectionExpression": "pk, sk",
        }
        while True:
            if not keep_going():
                return None
            with dynamodb_errors():
                page = self._client.query(**params)
            keys = [{"pk": item["pk"], "sk": item["sk"]} for item in page.get("Items", [])]
            keys = [key for key in keys if key["sk"].get("S") == STATUS_SK]
            for first in range(0, len(keys), BATCH_GET_KEYS):
                got = self._get(keys[first : first + BATCH_GET_KEYS], keep_going)
                if got is None:
                    return None
                messages += got
            last = page.get("LastEvaluatedKey")
            if not last:
                return messages
            params["ExclusiveStartKey"] = last

    def _get(self, keys: list[dict[str, Any]], keep_going: Callable[[], bool]) -> list[CreatedMessage] | None:
        """The live messages with these keys (a message deleted meanwhile is simply absent)."""
        now = epoch_seconds(self._clock())
        found: list[CreatedMessage] = []
        pending = keys
        for attempt in range(BATCH_GET_ATTEMPTS):
            if not keep_going():
                return None
            request: dict[str, Any] = {
                self._table: {
                    "Keys": pending,
                    "ProjectionExpression": _PROJECTION,
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ConsistentRead": False,
                }
            }
            with dynamodb_errors():
                response = self._client.batch_get_item(RequestItems=request)
            found += [
                created_message(raw)
                for raw in response.get("Responses", {}).get(self._table, [])
                if int(raw.get("expiresAt", {}).get("N", "0")) > now
            ]
            unprocessed: dict[str, Any] = dict(response.get("UnprocessedKeys") or {})
            pending = list(unprocessed.get(self._table, {}).get("Keys", []))
            if not pending:
                return found
            time.sleep(min(1.0, 0.05 * 2**attempt))  # DynamoDB asks for backoff on unprocessed keys
        raise StorageUnavailableError("DynamoDB kept leaving keys of the report unprocessed")
