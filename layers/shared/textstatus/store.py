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

    def history(self, provider: str, message_id: str) -> tuple[list[Item], Item | None]:
        """Every stored event of a message in the order they were received, each with
        `changedStatus`; and the current status item (None if the message is not tracked).

        One query reads the whole partition (the status and its events). Whether an event
        changed the status is what the conditional update recorded when it was applied (the
        status item's `changedBy` set), never a replay.
        """
        key = message_key(provider, message_id)
        items = self._query(
            KeyConditionExpression="pk = :pk",
            FilterExpression="expiresAt > :now",
            ExpressionAttributeValues={":pk": key["pk"], ":now": {"N": str(epoch_seconds(self._clock()))}},
        )
        status = next((item for item in items if item["sk"] == STATUS_SK), None)
        changed_by = set(status.get("changedBy", ())) if status else set()
        events = [
            {**item, "changedStatus": item["eventId"] in changed_by}
            for item in items
            if str(item["sk"]).startswith(EVENT_PREFIX)
        ]
        return sorted(events, key=lambda event: (event["receivedAt"], event["eventId"])), status

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
        hands back the stored copy without a read. An event once written is never rewritten.
        """
        item = _event_item(event, self._history_expires_at(event.received_at))
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
        move a status backwards and a duplicate changes nothing. The same update adds the
        event's id to the status item's `changedBy`, so the history says which events changed
        the status from what DynamoDB actually did. Returns the new record when it changed,
        else None. `next_poll_at` schedules the next poll of a non-final message.
        """
        if event.observation.status is None or event.observation.order_key is None:
            return None
        update = self._status_update(event, next_poll_at)
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

    def track_unknown(self, event: ReceivedEvent, next_poll_at: datetime | None) -> Item | None:
        """Start tracking a message first heard of through a word we do not know.

        The provider has the message, so it is `accepted` (reason `unknown`, the provider's word
        kept): found by lookups, polled until a word we know arrives, which replaces it by the
        ordering rule. Nothing is written when the message is already tracked.
        """
        observation = event.observation
        accepted = observation.as_first_sign()
        update = self._status_update(ReceivedEvent(accepted, event.source, event.received_at), next_poll_at)
        update.changed_by = observation.event_id
        try:
            with _storage_errors():
                response = self._client.update_item(
                    **update.params(self._table, condition="attribute_not_exists(pk)", return_values="ALL_NEW")
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
        """Start tracking a message, idempotently: its registration event, then its status.

        A new message is created with its first status from `event`. A message already tracked
        (an earlier registration, or a callback that beat it) gains the reference and metadata
        if it had none, and `event` is applied through the ordering rule like any other (so a
        send response's `failed` replaces a callback's `sent`, and never the other way round).
        """
        stored, _ = self.record_event(event)
        now = self._clock()
        update = self._registration_update(stored, reference, metadata, next_poll_at, now)
        try:
            with _storage_errors():
                response = self._client.update_item(
                    **update.params(self._table, condition="attribute_not_exists(pk)", return_values="ALL_NEW"),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except _ConditionFailedError as failed:
            record = self._adopt(failed.old, reference, metadata, now)
            if stored.observation.provider_status is not None:
                # The provider's own first word (a send response's): news, applied by the rule.
                # A registration by id alone says nothing the message does not know already.
                record = self.apply(stored, next_poll_at) or record
            return Registration(record, created=False)
        return Registration(_from_item(response.get("Attributes", {})), created=True)

    def register_many(
        self,
        events: list[ReceivedEvent],
        reference: str | None,
        metadata: Mapping[str, str] | None,
        next_poll_at: datetime | None,
    ) -> list[Registration]:
        """Register a batch (a provider's batch send response), idempotently.

        New messages are created in transactions of up to 50: each message's registration event
        and its status item together, each conditional on not existing, so a failure part-way
        leaves no event without its status and no write ever replaces an event or a status.
        A message with anything already stored (a repeated registration, a callback that came
        first) goes through `register`, one by one.
        """
        now = self._clock()
        created: dict[str, Item] = {}
        pending = {event.observation.message_id: event for event in events}
        existing: list[str] = []
        per_transaction = TRANSACTION_LIMIT // 2
        for attempt in range(5):
            if not pending:
                break
            ids = list(pending)
            for start in range(0, len(ids), per_transaction):
                chunk = ids[start : start + per_transaction]
                outcomes = self._create_all([pending[i] for i in chunk], reference, metadata, next_poll_at, now)
                for message_id, outcome in zip(chunk, outcomes, strict=True):
                    if isinstance(outcome, dict):
                        created[message_id] = outcome
                    elif outcome == "exists":
                        existing.append(message_id)
                    if outcome is not None:
                        del pending[message_id]
            if pending:
                time.sleep(0.05 * 2**attempt)
        if pending:
            raise StorageUnavailableError("DynamoDB kept refusing the registration batch")
        adopted = {
            message_id: self.register(
                next(e for e in events if e.observation.message_id == message_id), reference, metadata, next_poll_at
            )
            for message_id in existing
        }
        return [
            adopted.get(event.observation.message_id)
            or Registration(created[event.observation.message_id], created=True)
            for event in events
        ]

    def _create_all(
        self,
        events: list[ReceivedEvent],
        reference: str | None,
        metadata: Mapping[str, str] | None,
        next_poll_at: datetime | None,
        now: datetime,
    ) -> list[Item | str | None]:
        """One transaction writing each message's event and status item, none of which exists.

        Returns, per message, the created record (what was written: no read back), "exists"
        when its event or status was already stored, or None to try again (the transaction
        was canceled for another message, or a conflict).
        """
        items: list[Any] = []
        records: list[Item] = []
        for event in events:
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": _event_item(event, self._history_expires_at(event.received_at)),
                        "ConditionExpression": "attribute_not_exists(sk)",
                    }
                }
            )
            update = self._registration_update(event, reference, metadata, next_poll_at, now)
            params = update.params(self._table, condition="attribute_not_exists(pk)")
            params.pop("ReturnValues")
            items.append({"Update": params})
            records.append(update.created_record())
        try:
            with _storage_errors():
                self._client.transact_write_items(TransactItems=items)
        except _TransactionCanceledError as canceled:
            reasons = [reason.get("Code") for reason in canceled.reasons]
            return [
                "exists" if "ConditionalCheckFailed" in reasons[2 * index : 2 * index + 2] else None
                for index in range(len(events))
            ]
        return list(records)

    def _registration_update(
        self,
        event: ReceivedEvent,
        reference: str | None,
        metadata: Mapping[str, str] | None,
        next_poll_at: datetime | None,
        now: datetime,
    ) -> _Update:
        if event.observation.status is None:
            raise ValueError("a registration event needs a status")
        update = self._status_update(event, next_poll_at)
        update.set("registeredAt", iso(now))
        if reference is not None:
            update.set("reference", reference)
        if metadata:
            update.set("metadata", dict(metadata))
        return update

    def _status_update(self, event: ReceivedEvent, next_poll_at: datetime | None) -> _Update:
        observation = event.observation
        if observation.status is None or observation.order_key is None:
            raise ValueError("only an event with a status changes a status")
        now = self._clock()
        update = _Update(message_key(observation.provider, observation.message_id), now)
        update.changed_by = observation.event_id
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
        update = _Update({"pk": _to_attr(existing["pk"]), "sk": _to_attr(existing["sk"])}, now)
        for name, value in additions.items():
            update.sets.append(f"#{name} = if_not_exists(#{name}, :{name})")
            update.names[f"#{name}"] = name
            update.values[f":{name}"] = _to_attr(value)
        with _storage_errors():
            response = self._client.update_item(**update.params(self._table, return_values="ALL_NEW"))
        return _from_item(response.get("Attributes", {}))

    def touch_polled(self, provider: str, message_id: str, polled_at: datetime) -> Item | None:
        """Record that the provider was asked (a lookup that changed nothing); the record, or
        None when the message is not tracked."""
        try:
            with _storage_errors():
                response = self._client.update_item(
                    TableName=self._table,
                    Key=message_key(provider, message_id),
                    UpdateExpression="SET lastPolledAt = :polled",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":polled": _to_attr(iso(polled_at))},
                    ReturnValues="ALL_NEW",
                )
        except _ConditionFailedError:
            return None
        return self._live(_from_item(response.get("Attributes", {})))

    def reschedule(
        self, provider: str, message_id: str, next_poll_at: datetime, attempt: int, polled_at: datetime
    ) -> bool:
        """Set the next poll of a message that is still non-final; False if it became final meanwhile.

        Its expiry moves with it: a message still being tracked is never deleted by TTL.
        """
        try:
            with _storage_errors():
                self._client.update_item(
                    TableName=self._table,
                    Key=message_key(provider, message_id),
                    UpdateExpression=(
                        "SET nextPollAt = :next, pollAttempt = :attempt, lastPolledAt = :polled, expiresAt = :expires"
                    ),
                    ConditionExpression="attribute_exists(dueShard)",
                    ExpressionAttributeValues={
                        ":next": _to_attr(iso(next_poll_at)),
                        ":attempt": _to_attr(attempt),
                        ":polled": _to_attr(iso(polled_at)),
                        ":expires": _to_attr(self._expires_at(max(polled_at, self._clock()))),
                    },
                )
        except _ConditionFailedError:
            return False
        return True


class _Update:
    """An UpdateItem under construction: SET for values, REMOVE for None, and the event that
    made it added to the status item's `changedBy` set."""

    def __init__(self, key: dict[str, AttributeValueTypeDef], now: datetime) -> None:
        self.key = key
        self.now = now
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValueTypeDef] = {}
        self.fields: dict[str, Any] = {}
        self.changed_by: str | None = None

    def set(self, name: str, value: Any) -> None:
        index = len(self.names)
        self.names[f"#f{index}"] = name
        self.fields[name] = value
        if value is None:
            self.removes.append(f"#f{index}")
        else:
            self.values[f":f{index}"] = _to_attr(value)
            self.sets.append(f"#f{index} = :f{index}")

    def created_record(self) -> Item:
        """The item this update writes when it creates the status item (nothing was there)."""
        record = {name: value for name, value in self.fields.items() if value is not None}
        record.update(createdAt=iso(self.now), version=1)
        if self.changed_by is not None:
            record["changedBy"] = {self.changed_by}
        return record

    def params(
        self,
        table: str,
        *,
        condition: str | None = None,
        condition_values: Mapping[str, AttributeValueTypeDef] | None = None,
        return_values: str = "NONE",
    ) -> dict[str, Any]:
        sets = list(self.sets)
        values = dict(self.values)
        if self.changed_by is not None:
            # A status change: its creation time, its version, and the event that made it.
            sets += ["createdAt = if_not_exists(createdAt, :now)", "version = if_not_exists(version, :zero) + :one"]
            values.update({":now": _to_attr(iso(self.now)), ":zero": _to_attr(0), ":one": _to_attr(1)})
        expression = "SET " + ", ".join(sets)
        if self.removes:
            expression += " REMOVE " + ", ".join(self.removes)
        if self.changed_by is not None:
            expression += " ADD changedBy :changedBy"
            values[":changedBy"] = {"SS": [self.changed_by]}
        params: dict[str, Any] = {
            "TableName": table,
            "Key": self.key,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": self.names,
            "ExpressionAttributeValues": {**values, **(condition_values or {})},
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
