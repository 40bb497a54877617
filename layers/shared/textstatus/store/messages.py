"""A message's reads, its history, and the conditional status update that enforces the rule."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from textstatus.clock import iso
from textstatus.events import Observation, ReceivedEvent
from textstatus.store.encoding import (
    DUE_INDEX,
    EVENT_PREFIX,
    REFERENCE_INDEX,
    STATUS_SK,
    DueCursor,
    Item,
    correlation_attributes,
    due_attributes,
    due_message,
    event_item,
    from_item,
    history_entry,
    message_key,
    received_event,
    status_attributes,
    status_record,
    to_attr,
)
from textstatus.store.records import DueMessage, HistoryEntry, StatusRecord
from textstatus.store.requests import ConditionFailedError, Table, dynamodb_errors
from textstatus.store.updates import Update


class Messages(Table):
    # Reads -------------------------------------------------------------------------------

    def get(self, provider: str, message_id: str) -> StatusRecord | None:
        with dynamodb_errors():
            response = self._client.get_item(TableName=self._table, Key=message_key(provider, message_id))
        raw = response.get("Item")
        item = from_item(raw) if raw else None
        return status_record(item) if item is not None and self._live(item) else None

    def history(self, provider: str, message_id: str) -> tuple[list[HistoryEntry], StatusRecord | None]:
        """Every stored event of a message in the order they were received; and the current
        status (None if the message is not tracked).

        One query reads the whole partition (the status and its events). Whether an event
        changed the status is what the conditional update recorded when it was applied (the
        status item's `changedBy` set), never a replay.
        """
        items = self._query(
            KeyConditionExpression="pk = :pk",
            FilterExpression="expiresAt > :now",
            ExpressionAttributeValues={":pk": message_key(provider, message_id)["pk"], ":now": self._now_epoch()},
        )
        status = next((status_record(item) for item in items if item["sk"] == STATUS_SK), None)
        changed_by = status.changed_by if status is not None else frozenset()
        events = [history_entry(item, changed_by) for item in items if str(item["sk"]).startswith(EVENT_PREFIX)]
        return sorted(events, key=lambda entry: (entry.event.received_at, entry.event_id)), status

    def by_reference(self, reference: str, limit: int, after: Mapping[str, str] | None = None) -> list[StatusRecord]:
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
        items = self._query(
            IndexName=REFERENCE_INDEX,
            KeyConditionExpression="#ref = :ref",
            FilterExpression="expiresAt > :now",
            ExpressionAttributeNames={"#ref": "reference"},
            ExpressionAttributeValues={":ref": {"S": reference}, ":now": self._now_epoch()},
            limit=limit,
            **start,
        )
        return [status_record(item) for item in items]

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
        with dynamodb_errors():
            response = self._client.query(**params)
        messages = [due_message(from_item(raw)) for raw in response.get("Items", [])]
        return messages, response.get("LastEvaluatedKey") or None

    # Writes ------------------------------------------------------------------------------

    def record_event(self, event: ReceivedEvent) -> tuple[ReceivedEvent, bool]:
        """Store one event in the history unless it is already there.

        Returns the event as stored (the first copy, when this one is a duplicate) and whether
        it was a duplicate. One write; a duplicate costs the same single failed put and
        hands back the stored copy without a read. An event once written is never rewritten.
        """
        try:
            with dynamodb_errors():
                self._client.put_item(
                    TableName=self._table,
                    Item=event_item(event, self._history_expires_at(event.received_at)),
                    ConditionExpression="attribute_not_exists(sk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ConditionFailedError as failed:
            return (received_event(failed.old) if failed.old else event), True
        return event, False

    def apply(
        self, event: ReceivedEvent, next_poll_at: datetime | None, *, reschedule: bool = True
    ) -> StatusRecord | None:
        """Make `event` the current status if it is greater by the ordering rule.

        The rule is enforced by DynamoDB (`orderKey < :key`), so concurrent writers cannot
        move a status backwards and a duplicate changes nothing. A change of status counts: the
        same update adds one to `version` and the event's id to `changedBy` (so the history says
        which events changed the status from what DynamoDB did). A greater report of the status
        the message already has (a later `delivered`, Comapi's `read` after `delivered`) becomes
        the current report, so the result never depends on arrival order, but changes nothing
        that counts. Returns the new record when the status changed, else None.
        `next_poll_at` schedules the next poll of a non-final message; without `reschedule`, a
        message already scheduled keeps its schedule (see `_status_update`).
        """
        observation = event.observation
        if observation.status is None or observation.order_key is None:
            return None
        values = {":key": to_attr(observation.order_key), ":status": to_attr(observation.status.value)}
        update = self._status_update(event, next_poll_at, reschedule=reschedule)
        update.names["#status"] = "status"
        try:
            with dynamodb_errors():
                response = self._client.update_item(
                    **update.params(
                        self._table,
                        condition="attribute_not_exists(orderKey) OR (orderKey < :key AND #status <> :status)",
                        condition_values=values,
                        return_values="ALL_NEW",
                    ),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ConditionFailedError as failed:
            old = failed.old
            if old.get("status") == observation.status.value and str(old.get("orderKey", "")) < observation.order_key:
                self._refresh(update, values)
            else:
                self._keep_correlation(observation, old)
            return None
        return status_record(from_item(response.get("Attributes", {})))

    def _refresh(self, update: Update, values: dict[str, Any]) -> None:
        """The same status, reported later: the report becomes current, nothing is counted."""
        update.changed_by = None
        try:
            with dynamodb_errors():
                self._client.update_item(
                    **update.params(
                        self._table, condition="orderKey < :key AND #status = :status", condition_values=values
                    )
                )
        except ConditionFailedError:
            pass  # a greater report landed meanwhile

    def track_unknown(self, event: ReceivedEvent, next_poll_at: datetime | None) -> StatusRecord | None:
        """Start tracking a message first heard of through a word we do not know.

        The provider has the message, so it is `accepted` (reason `unknown`, the provider's word
        kept): found by lookups, polled until a word we know arrives, which replaces it by the
        ordering rule. Nothing is written when the message is already tracked.
        """
        observation = event.observation
        sign = ReceivedEvent(observation.as_first_sign(), event.source, event.received_at)
        update = self._status_update(sign, next_poll_at)
        update.changed_by = observation.event_id
        try:
            with dynamodb_errors():
                response = self._client.update_item(
                    **update.params(self._table, condition="attribute_not_exists(pk)", return_values="ALL_NEW"),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ConditionFailedError as failed:
            self._keep_correlation(observation, failed.old)
            return None
        return status_record(from_item(response.get("Attributes", {})))

    def _keep_correlation(self, observation: Observation, old: Item) -> None:
        """A report that changed nothing still brings its correlation data (and the reference it
        names) to a message that has none: one more write, at most once per message."""
        attributes = correlation_attributes(observation)
        if not attributes or not old or "correlation" in old:
            return
        update = Update(message_key(observation.provider, observation.message_id), self._clock())
        for name, value in attributes.items():
            update.set_if_absent(name, value)
        condition = "attribute_exists(pk) AND attribute_not_exists(correlation)"
        try:
            with dynamodb_errors():
                self._client.update_item(**update.params(self._table, condition=condition))
        except ConditionFailedError:
            pass  # another report brought it meanwhile, or the message is gone

    def touch_polled(self, provider: str, message_id: str, polled_at: datetime) -> StatusRecord | None:
        """Record that the provider was asked (a lookup that changed nothing); the record, or
        None when the message is not tracked."""
        try:
            with dynamodb_errors():
                response = self._client.update_item(
                    TableName=self._table,
                    Key=message_key(provider, message_id),
                    UpdateExpression="SET lastPolledAt = :polled",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":polled": to_attr(iso(polled_at))},
                    ReturnValues="ALL_NEW",
                )
        except ConditionFailedError:
            return None
        item = from_item(response.get("Attributes", {}))
        return status_record(item) if self._live(item) else None

    def reschedule(
        self, provider: str, message_id: str, next_poll_at: datetime, attempt: int, polled_at: datetime
    ) -> bool:
        """Set the next poll of a message that is still non-final; False if it became final meanwhile.

        Its expiry moves with it: a message still being tracked is never deleted by TTL.
        """
        try:
            with dynamodb_errors():
                self._client.update_item(
                    TableName=self._table,
                    Key=message_key(provider, message_id),
                    UpdateExpression=(
                        "SET nextPollAt = :next, pollAttempt = :attempt, lastPolledAt = :polled, expiresAt = :expires"
                    ),
                    ConditionExpression="attribute_exists(dueShard)",
                    ExpressionAttributeValues={
                        ":next": to_attr(iso(next_poll_at)),
                        ":attempt": to_attr(attempt),
                        ":polled": to_attr(iso(polled_at)),
                        ":expires": to_attr(self._expires_at(max(polled_at, self._clock()))),
                    },
                )
        except ConditionFailedError:
            return False
        return True

    def _status_update(self, event: ReceivedEvent, next_poll_at: datetime | None, *, reschedule: bool = True) -> Update:
        """The update that makes `event` the status (the caller adds the condition).

        A final status takes the message out of the due index. A non-final one schedules its next
        poll at `next_poll_at`; without `reschedule` only when it has no schedule yet, so a change
        that keeps a message due (a callback's `sent`) leaves its index entry alone: moving the
        index key costs a delete and a put in the index on every change.
        """
        observation = event.observation
        if observation.status is None or observation.order_key is None:
            raise ValueError("only an event with a status changes a status")
        now = self._clock()
        update = Update(message_key(observation.provider, observation.message_id), now)
        update.changed_by = observation.event_id
        update.set_all(status_attributes(event, now, self._expires_at(now)))
        for name, value in correlation_attributes(observation).items():
            update.set_if_absent(name, value)
        final = observation.status.final
        due = due_attributes(observation.provider, observation.message_id, None if final else next_poll_at)
        for name, value in due.items():
            if reschedule or value is None:
                update.set(name, value)
            else:
                update.set_if_absent(name, value)
        update.final_at = event.received_at if final else None
        return update
