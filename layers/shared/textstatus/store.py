"""DynamoDB access: the only module that speaks DynamoDB.

One table. Under the partition key `MSG#<provider>#<messageId>`:
- the current status, sort key `STATUS`;
- one item per event, sort key `EVENT#<eventId>` (the id is stable, so a duplicate is one put
  that fails its condition).
Every item carries `expiresAt` (epoch seconds) for DynamoDB's TTL. TTL deletion is lazy (up to
days), so every read filters expired items out.

Two sparse global secondary indexes:
- `due-index` (`dueShard`, `nextPollAt`): only non-final messages carry `dueShard`, so the
  poller reads exactly the due work, sharded to spread the write load;
- `reference-index` (`reference`, `createdAt`): only messages registered with a reference.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from textstatus.clock import epoch_seconds, iso, parse_iso, utcnow
from textstatus.errors import AwsRequestRefusedError, StorageUnavailableError
from textstatus.events import Observation, ReceivedEvent, Source
from textstatus.observability import count, logger
from textstatus.status import Reason, Status

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

STATUS_SK = "STATUS"
EVENT_PREFIX = "EVENT#"
DUE_INDEX = "due-index"
REFERENCE_INDEX = "reference-index"
# Changing this re-homes every non-final message; the poller reads all shards each run.
POLL_SHARDS = 8
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100
TRANSACTION_LIMIT = 100

Item = dict[str, Any]
DueCursor = dict[str, Any] | None


def message_key(provider: str, message_id: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": f"MSG#{provider}#{message_id}"}, "sk": {"S": STATUS_SK}}


def due_shard(provider: str, message_id: str) -> str:
    digest = hashlib.blake2b(f"{provider}#{message_id}".encode(), digest_size=2).digest()
    return str(int.from_bytes(digest) % POLL_SHARDS)


def _to_attr(value: Any) -> AttributeValueTypeDef:
    return _codec()[0].serialize(value)


def _from_item(raw: Mapping[str, Any]) -> Item:
    deserializer = _codec()[1]
    return {key: _plain(deserializer.deserialize(value)) for key, value in raw.items()}


@cache
def _codec() -> tuple[TypeSerializer, TypeDeserializer]:
    # boto3 is imported when DynamoDB is first used, not when the module is: a request refused
    # before it reaches the store (bad credentials, bad input) never pays for it.
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _plain(value: Any) -> Any:
    """Decimals back to int/float, recursively, so callers deal in plain JSON types."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


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


class _ConditionFailedError(Exception):
    """A write's condition did not hold; `old` is the item as it was (ALL_OLD), if asked for."""

    def __init__(self, old: Item) -> None:
        super().__init__("condition failed")
        self.old = old


class _TransactionCanceledError(Exception):
    def __init__(self, reasons: list[Any]) -> None:
        super().__init__("transaction canceled")
        self.reasons = reasons


@contextmanager
def _storage_errors() -> Iterator[None]:
    """The one place that reads botocore's errors: outages and throttling become
    StorageUnavailableError (answered with 5xx); failed conditions, _ConditionFailedError."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            raw = exc.response.get("Item")
            raise _ConditionFailedError(_from_item(raw) if isinstance(raw, Mapping) else {}) from None
        if code == "TransactionCanceledException":
            raise _TransactionCanceledError(list(exc.response.get("CancellationReasons", []))) from None
        if code in _RETRYABLE_CODES or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
            raise StorageUnavailableError(f"DynamoDB is unavailable ({code})") from exc
        # AccessDenied, validation, a missing table: retrying will not help. Someone must act.
        action = f"dynamodb:{exc.operation_name}"
        logger.error("AWS refused a request", extra={"action": action, "aws_error": code})
        count("AwsRequestRefused")
        raise AwsRequestRefusedError(action, code or "unknown") from exc
    except BotoCoreError as exc:
        raise StorageUnavailableError(f"DynamoDB is unreachable ({type(exc).__name__})") from exc


@dataclass(frozen=True)
class DueMessage:
    provider: str
    message_id: str
    created_at: datetime
    poll_attempt: int
    next_poll_at: str


@dataclass(frozen=True)
class Registration:
    record: Item
    created: bool


class MessageStore:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        retention: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._client = client
        self._table = table_name
        self._retention = retention
        self._clock = clock

    def _expires_at(self, now: datetime) -> int:
        return epoch_seconds(now + self._retention)

    def _live(self, item: Item | None) -> Item | None:
        if item is None or int(item.get("expiresAt", 0)) <= epoch_seconds(self._clock()):
            return None
        return item

    # Reads -------------------------------------------------------------------------------

    def get(self, provider: str, message_id: str) -> Item | None:
        with _storage_errors():
            response = self._client.get_item(TableName=self._table, Key=message_key(provider, message_id))
        raw = response.get("Item")
        return self._live(_from_item(raw)) if raw else None

    def history(self, provider: str, message_id: str) -> list[Item]:
        """Every stored event of a message, in the order they were received."""
        key = message_key(provider, message_id)
        events = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            FilterExpression="expiresAt > :now",
            ExpressionAttributeValues={
                ":pk": key["pk"],
                ":prefix": {"S": EVENT_PREFIX},
                ":now": {"N": str(epoch_seconds(self._clock()))},
            },
        )
        return sorted(events, key=lambda event: (event["receivedAt"], event["eventId"]))

    def by_reference(self, reference: str, limit: int, after: Mapping[str, str] | None = None) -> list[Item]:
        """Up to `limit` live messages with this reference, oldest first (by `createdAt`), starting
        after the message `after` (its `provider`, `messageId` and `createdAt`) when given.

        DynamoDB applies `Limit` before the filter that drops expired items, so one page can come
        back short while more exist: `_query` reads on until `limit` items or the index's end.
        """
        start: dict[str, Any] = {}
        if after is not None:
            start["ExclusiveStartKey"] = {
                **message_key(after["provider"], after["messageId"]),
                "reference": {"S": reference},
                "createdAt": {"S": after["createdAt"]},
            }
        return self._query(
            IndexName=REFERENCE_INDEX,
            KeyConditionExpression="#ref = :ref",
            FilterExpression="expiresAt > :now",
            ExpressionAttributeNames={"#ref": "reference"},
            ExpressionAttributeValues={
                ":ref": {"S": reference},
                ":now": {"N": str(epoch_seconds(self._clock()))},
            },
            limit=limit,
            **start,
        )

    def due(self, shard: int, now: datetime, limit: int, start: DueCursor = None) -> tuple[list[DueMessage], DueCursor]:
        """Up to `limit` non-final messages of one shard whose next poll time has come, oldest
        first, from `start`; and where to go on from (None when the shard has no more)."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": DUE_INDEX,
            "KeyConditionExpression": "dueShard = :shard AND nextPollAt <= :now",
            "ExpressionAttributeValues": {":shard": {"S": str(shard)}, ":now": {"S": iso(now)}},
            "Limit": limit,
        }
        if start:
            params["ExclusiveStartKey"] = start
        with _storage_errors():
            response = self._client.query(**params)
        items = [_from_item(raw) for raw in response.get("Items", [])]
        messages = [
            DueMessage(
                provider=item["provider"],
                message_id=item["messageId"],
                created_at=parse_iso(item["createdAt"]),
                poll_attempt=int(item.get("pollAttempt", 0)),
                next_poll_at=item["nextPollAt"],
            )
            for item in items
        ]
        return messages, response.get("LastEvaluatedKey") or None

    def _query(self, limit: int | None = None, **kwargs: Any) -> list[Item]:
        items: list[Item] = []
        params: dict[str, Any] = {"TableName": self._table, **kwargs}
        while True:
            if limit is not None:
                params["Limit"] = limit - len(items)
            with _storage_errors():
                response = self._client.query(**params)
            items.extend(_from_item(raw) for raw in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last or (limit is not None and len(items) >= limit):
                return items
            params["ExclusiveStartKey"] = last

    # Writes ------------------------------------------------------------------------------

    def record_event(self, event: ReceivedEvent) -> tuple[ReceivedEvent, bool]:
        """Store one event in the history unless it is already there.

        Returns the event as stored (the first copy, when this one is a duplicate) and whether
        it was a duplicate. One write; a duplicate costs the same single failed put and
        hands back the stored copy without a read.
        """
        item = _event_item(event, self._expires_at(event.received_at))
        try:
            with _storage_errors():
                self._client.put_item(
                    TableName=self._table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(sk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except _ConditionFailedError as failed:
            return (_received_event(failed.old) if failed.old else event), True
        return event, False

    def apply(self, event: ReceivedEvent, next_poll_at: datetime | None) -> Item | None:
        """Make `event` the current status if it is greater by the ordering rule.

        The rule is enforced by DynamoDB (`orderKey < :key`), so concurrent writers cannot
        move a status backwards and a duplicate changes nothing. Returns the new record when
        it changed, else None. `next_poll_at` schedules the next poll of a non-final message.
        """
        update = self._status_update(event, next_poll_at)
        if update is None or event.observation.order_key is None:
            return None
        try:
            with _storage_errors():
                response = self._client.update_item(
                    **update.params(
                        self._table,
                        condition="attribute_not_exists(orderKey) OR orderKey < :key",
                        condition_values={":key": _to_attr(event.observation.order_key)},
                        return_values="ALL_NEW",
                    )
                )
        except _ConditionFailedError:
            return None
        return _from_item(response.get("Attributes", {}))

    def register(
        self,
        event: ReceivedEvent,
        reference: str | None,
        metadata: Mapping[str, str] | None,
        next_poll_at: datetime | None,
    ) -> Registration:
        """Start tracking a message, idempotently.

        A new message is created with its first status from `event` in one write. A message
        already tracked (by an earlier registration, or a callback that beat it) keeps its
        status, and only gains the reference and metadata if it had none.
        """
        update = self._status_update(event, next_poll_at)
        if update is None:
            raise ValueError("a registration event needs a status")
        now = self._clock()
        update.set("registeredAt", iso(now))
        if reference is not None:
            update.set("reference", reference)
        if metadata:
            update.set("metadata", dict(metadata))
        try:
            with _storage_errors():
                response = self._client.update_item(
                    **update.params(self._table, condition="attribute_not_exists(pk)", return_values="ALL_NEW"),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except _ConditionFailedError as failed:
            return Registration(self._adopt(failed.old, reference, metadata, now), created=False)
        return Registration(_from_item(response.get("Attributes", {})), created=True)

    def register_many(
        self,
        events: list[ReceivedEvent],
        reference: str | None,
        metadata: Mapping[str, str] | None,
        next_poll_at: datetime | None,
    ) -> list[Registration]:
        """Register a batch (a provider's batch send response) in batched writes, idempotently.

        History events go in BatchWriteItem requests (they are keyed by content, so writing one
        again is harmless). Status items are created in TransactWriteItems of up to 100, each
        conditional on the message being new: a batch write cannot be conditional, and an
        unconditional put could overwrite a status that a callback has just written. Messages
        already tracked are adopted one by one, as in `register`.
        """
        now = self._clock()
        self._batch_put([_event_item(event, self._expires_at(event.received_at)) for event in events])
        pending: dict[str, tuple[ReceivedEvent, _Update]] = {}
        for event in events:
            update = self._status_update(event, next_poll_at)
            if update is None:
                raise ValueError("a registration event needs a status")
            update.set("registeredAt", iso(now))
            if reference is not None:
                update.set("reference", reference)
            if metadata:
                update.set("metadata", dict(metadata))
            pending[event.observation.message_id] = (event, update)
        created: set[str] = set()
        existing: dict[str, Item] = {}
        for attempt in range(5):
            if not pending:
                break
            ids = list(pending)
            for start in range(0, len(ids), TRANSACTION_LIMIT):
                chunk = ids[start : start + TRANSACTION_LIMIT]
                outcome = self._create_all(self._table, [pending[i][1] for i in chunk])
                for message_id, (status, old) in zip(chunk, outcome, strict=True):
                    if status == "created":
                        created.add(message_id)
                        del pending[message_id]
                    elif status == "exists":
                        existing[message_id] = old
                        del pending[message_id]
            if pending:
                time.sleep(0.05 * 2**attempt)
        if pending:
            raise StorageUnavailableError("DynamoDB kept refusing the registration batch")
        records = {
            item["messageId"]: item
            for item in self._batch_get(
                [
                    message_key(e.observation.provider, e.observation.message_id)
                    for e in events
                    if e.observation.message_id in created
                ]
            )
        }
        registrations = []
        for event in events:
            message_id = event.observation.message_id
            if message_id in existing:
                registrations.append(
                    Registration(self._adopt(existing[message_id], reference, metadata, now), created=False)
                )
            else:
                registrations.append(Registration(records[message_id], created=True))
        return registrations

    def _create_all(self, table: str, updates: list[_Update]) -> list[tuple[str, Item]]:
        """One transaction creating every item that does not exist yet.

        Returns, per update, ("created", {}), ("exists", the old item) or ("retry", {}).
        """
        items: list[Any] = []
        for update in updates:
            params = update.params(table, condition="attribute_not_exists(pk)")
            params.pop("ReturnValues")
            items.append({"Update": {**params, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}})
        try:
            with _storage_errors():
                self._client.transact_write_items(TransactItems=items)
        except _TransactionCanceledError as canceled:
            results: list[tuple[str, Item]] = []
            for reason in canceled.reasons:
                if reason.get("Code") == "ConditionalCheckFailed":
                    results.append(("exists", _from_item(reason.get("Item", {}))))
                else:
                    results.append(("retry", {}))
            return results
        return [("created", {}) for _ in updates]

    def _batch_put(self, items: list[dict[str, AttributeValueTypeDef]]) -> None:
        """BatchWriteItem in requests of 25, retrying unprocessed items with backoff."""
        for start in range(0, len(items), BATCH_WRITE_LIMIT):
            requests: list[Any] = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH_WRITE_LIMIT]]
            for attempt in range(8):
                with _storage_errors():
                    response = self._client.batch_write_item(RequestItems={self._table: requests})
                requests = list(response.get("UnprocessedItems", {}).get(self._table, []))
                if not requests:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt))
            else:
                raise StorageUnavailableError("DynamoDB kept items of a batch unprocessed")

    def _batch_get(self, keys: list[dict[str, AttributeValueTypeDef]]) -> list[Item]:
        found: list[Item] = []
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self._table: {"Keys": keys[start : start + BATCH_GET_LIMIT], "ConsistentRead": True}
            }
            for attempt in range(8):
                with _storage_errors():
                    response = self._client.batch_get_item(RequestItems=request)
                found += [_from_item(raw) for raw in response.get("Responses", {}).get(self._table, [])]
                request = dict(response.get("UnprocessedKeys") or {})
                if not request:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt))
            else:
                raise StorageUnavailableError("DynamoDB kept keys of a batch unprocessed")
        return found

    def _status_update(self, event: ReceivedEvent, next_poll_at: datetime | None) -> _Update | None:
        observation = event.observation
        if observation.status is None or observation.order_key is None:
            return None
        now = self._clock()
        update = _Update(message_key(observation.provider, observation.message_id))
        update.sets += [
            "createdAt = if_not_exists(createdAt, :now)",
            "version = if_not_exists(version, :zero) + :one",
        ]
        update.values.update({":now": _to_attr(iso(now)), ":zero": _to_attr(0), ":one": _to_attr(1)})
        fields: dict[str, Any] = {
            "provider": observation.provider,
            "messageId": observation.message_id,
            "status": observation.status.value,
            "final": observation.status.final,
            "orderKey": observation.order_key,
            "source": event.source.value,
            "providerEventAt": iso(observation.event_at),
            "updatedAt": iso(now),
            "expiresAt": self._expires_at(now),
            "reason": observation.reason.value if observation.reason else None,
            "providerStatus": observation.provider_status,
            "providerDetail": observation.provider_detail,
            "segments": observation.segments,
            "recipients": observation.recipients,
        }
        if event.source in (Source.POLL, Source.LOOKUP):
            fields["lastPolledAt"] = iso(event.received_at)
        if observation.status.final or next_poll_at is None:
            fields.update(dueShard=None, nextPollAt=None, pollAttempt=None)
        else:
            fields["dueShard"] = due_shard(observation.provider, observation.message_id)
            fields["nextPollAt"] = iso(next_poll_at)
            fields["pollAttempt"] = 0
        for name, value in fields.items():
            update.set(name, value)
        return update

    def _adopt(self, existing: Item, reference: str | None, metadata: Mapping[str, str] | None, now: datetime) -> Item:
        """Mark an already tracked message as registered, keeping any reference it has.

        No write at all when there is nothing to add (a repeated registration).
        """
        additions: dict[str, Any] = {}
        if "registeredAt" not in existing:
            additions["registeredAt"] = iso(now)
        if reference is not None and "reference" not in existing:
            additions["reference"] = reference
        if metadata and "metadata" not in existing:
            additions["metadata"] = dict(metadata)
        if not additions:
            return existing
        update = _Update({"pk": _to_attr(existing["pk"]), "sk": _to_attr(existing["sk"])})
        for name, value in additions.items():
            update.sets.append(f"#{name} = if_not_exists(#{name}, :{name})")
            update.names[f"#{name}"] = name
            update.values[f":{name}"] = _to_attr(value)
        with _storage_errors():
            response = self._client.update_item(**update.params(self._table, return_values="ALL_NEW"))
        return _from_item(response.get("Attributes", {}))

    def reschedule(
        self, provider: str, message_id: str, next_poll_at: datetime, attempt: int, polled_at: datetime
    ) -> bool:
        """Set the next poll of a message that is still non-final; False if it became final meanwhile."""
        try:
            with _storage_errors():
                self._client.update_item(
                    TableName=self._table,
                    Key=message_key(provider, message_id),
                    UpdateExpression="SET nextPollAt = :next, pollAttempt = :attempt, lastPolledAt = :polled",
                    ConditionExpression="attribute_exists(dueShard)",
                    ExpressionAttributeValues={
                        ":next": _to_attr(iso(next_poll_at)),
                        ":attempt": _to_attr(attempt),
                        ":polled": _to_attr(iso(polled_at)),
                    },
                )
        except _ConditionFailedError:
            return False
        return True


class _Update:
    """An UpdateItem under construction: SET for values, REMOVE for None."""

    def __init__(self, key: dict[str, AttributeValueTypeDef]) -> None:
        self.key = key
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValueTypeDef] = {}

    def set(self, name: str, value: Any) -> None:
        index = len(self.names)
        self.names[f"#f{index}"] = name
        if value is None:
            self.removes.append(f"#f{index}")
        else:
            self.values[f":f{index}"] = _to_attr(value)
            self.sets.append(f"#f{index} = :f{index}")

    def params(
        self,
        table: str,
        *,
        condition: str | None = None,
        condition_values: Mapping[str, AttributeValueTypeDef] | None = None,
        return_values: str = "NONE",
    ) -> dict[str, Any]:
        expression = "SET " + ", ".join(self.sets)
        if self.removes:
            expression += " REMOVE " + ", ".join(self.removes)
        params: dict[str, Any] = {
            "TableName": table,
            "Key": self.key,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": self.names,
            "ExpressionAttributeValues": {**self.values, **(condition_values or {})},
            "ReturnValues": return_values,
        }
        if condition:
            params["ConditionExpression"] = condition
        return params


def _event_item(event: ReceivedEvent, expires_at: int) -> dict[str, AttributeValueTypeDef]:
    observation = event.observation
    fields: dict[str, Any] = {
        "pk": f"MSG#{observation.provider}#{observation.message_id}",
        "sk": EVENT_PREFIX + observation.event_id,
        "eventId": observation.event_id,
        "provider": observation.provider,
        "messageId": observation.message_id,
        "source": event.source.value,
        "receivedAt": iso(event.received_at),
        "providerEventAt": iso(observation.event_at),
        "providerGaveTime": observation.provider_gave_time,
        "status": observation.status.value if observation.status else None,
        "reason": observation.reason.value if observation.reason else None,
        "providerStatus": observation.provider_status,
        "providerDetail": observation.provider_detail,
        "providerEventId": observation.provider_event_id,
        "segments": observation.segments,
        "recipients": observation.recipients,
        "expiresAt": expires_at,
    }
    return {name: _to_attr(value) for name, value in fields.items() if value is not None}


def _received_event(item: Item) -> ReceivedEvent:
    """Rebuild an event from its history item (to re-apply a stored duplicate)."""
    observation = Observation(
        provider=item["provider"],
        message_id=item["messageId"],
        status=Status(item["status"]) if item.get("status") else None,
        reason=Reason(item["reason"]) if item.get("reason") else None,
        provider_status=item.get("providerStatus"),
        event_at=parse_iso(item["providerEventAt"]),
        provider_detail=item.get("providerDetail"),
        segments=item.get("segments"),
        recipients=item.get("recipients"),
        provider_event_id=item.get("providerEventId"),
        provider_gave_time=bool(item.get("providerGaveTime")),
    )
    return ReceivedEvent(observation, Source(item["source"]), parse_iso(item["receivedAt"]))
