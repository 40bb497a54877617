"""DynamoDB requests: the one place that reads botocore's errors, and what every part of the
store shares (the client, the table, the clock, how long items are kept)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from textstatus.clock import epoch_seconds, utcnow
from textstatus.errors import AwsRequestRefusedError, StorageUnavailableError
from textstatus.observability import count, logger
from textstatus.store.encoding import Item, from_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
    }
)


class ConditionFailedError(Exception):
    """A write's condition did not hold; `old` is the item as it was (ALL_OLD), if asked for."""

    def __init__(self, old: Item) -> None:
        super().__init__("condition failed")
        self.old = old


class TransactionCanceledError(Exception):
    def __init__(self, reasons: list[Any]) -> None:
        super().__init__("transaction canceled")
        self.reasons = reasons


@contextmanager
def dynamodb_errors() -> Iterator[None]:
    """Outages and throttling become StorageUnavailableError (answered 503, so providers retry);
    failed conditions ConditionFailedError; a canceled transaction TransactionCanceledError;
    anything AWS refuses for good AwsRequestRefusedError (logged at error with the action)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            raw = exc.response.get("Item")
            raise ConditionFailedError(from_item(raw) if isinstance(raw, Mapping) else {}) from None
        if code == "TransactionCanceledException":
            raise TransactionCanceledError(list(exc.response.get("CancellationReasons", []))) from None
        if code in _RETRYABLE_CODES or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
            raise StorageUnavailableError(f"DynamoDB is unavailable ({code})") from exc
        # AccessDenied, validation, a missing table: retrying will not help. Someone must act.
        action = f"dynamodb:{exc.operation_name}"
        logger.error("AWS refused a request", extra={"action": action, "aws_error": code})
        count("AwsRequestRefused")
        raise AwsRequestRefusedError(action, code or "unknown") from exc
    except BotoCoreError as exc:
        raise StorageUnavailableError(f"DynamoDB is unreachable ({type(exc).__name__})") from exc


class Table:
    """The table and its rules of retention, shared by the store's reads and writes."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        retention: timedelta,
        clock: Callable[[], datetime] = utcnow,
        tracking_window: timedelta = timedelta(0),
    ) -> None:
        self._client = client
        self._table = table_name
        self._retention = retention
        # A message's events are kept `retention` after it can last have become final: its
        # tracking window (the deadline) after they were received, plus the retention. So no
        # item of a message disappears before the message is final plus the retention.
        self._history_retention = retention + tracking_window
        self._clock = clock

    def _expires_at(self, now: datetime) -> int:
        return epoch_seconds(now + self._retention)

    def _history_expires_at(self, received_at: datetime) -> int:
        return epoch_seconds(received_at + self._history_retention)

    def _now_epoch(self) -> dict[str, str]:
        return {"N": str(epoch_seconds(self._clock()))}

    def _live(self, item: Item) -> bool:
        return int(item.get("expiresAt", 0)) > epoch_seconds(self._clock())

    def _query(self, limit: int | None = None, **kwargs: Any) -> list[Item]:
        """Every item a query finds (or `limit`), following DynamoDB's pages."""
        items: list[Item] = []
        params: dict[str, Any] = {"TableName": self._table, **kwargs}
        while True:
            if limit is not None:
                params["Limit"] = limit - len(items)
            with dynamodb_errors():
                response = self._client.query(**params)
            items.extend(from_item(raw) for raw in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last or (limit is not None and len(items) >= limit):
                return items
            params["ExclusiveStartKey"] = last
