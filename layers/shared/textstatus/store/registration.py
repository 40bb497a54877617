"""Registration: a message's first event and its status item, one by one or a batch at a time."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from textstatus.clock import iso
from textstatus.errors import StorageUnavailableError
from textstatus.events import ReceivedEvent
from textstatus.store.encoding import Item, event_item, from_item, status_record, to_attr
from textstatus.store.messages import Messages
from textstatus.store.records import Registration, StatusRecord
from textstatus.store.reports import CreatedMessages
from textstatus.store.requests import ConditionFailedError, TransactionCanceledError, dynamodb_errors
from textstatus.store.updates import Update

TRANSACTION_LIMIT = 100
# Each message is two items of a transaction: its event and its status.
MESSAGES_PER_TRANSACTION = TRANSACTION_LIMIT // 2
TRANSACTION_ATTEMPTS = 5
# Set on a message whose reference a registration gave (a reference from correlation data has none).
REFERENCE_REGISTERED = "referenceRegistered"


class MessageStore(Messages, CreatedMessages):
    """The store: a message's reads and status updates (`Messages`), the outcomes report's reads
    (`CreatedMessages`), and registration."""

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
        if no registration gave it any (`_adopt`), and `event` is applied through the ordering
        rule like any other (so a send response's `failed` replaces a callback's `sent`, and never
        the other way round).
        """
        stored, _ = self.record_event(event)
        now = self._clock()
        update = self._registration_update(stored, reference, metadata, next_poll_at, now)
        try:
            with dynamodb_errors():
                response = self._client.update_item(
                    **update.params(self._table, condition="attribute_not_exists(pk)", return_values="ALL_NEW"),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ConditionFailedError as failed:
            record = self._adopt(failed.old, reference, metadata, now)
            if stored.observation.provider_status is not None:
                # The provider's own first word (a send response's): news, applied by the rule.
                # A registration by id alone says nothing the message does not know already.
                return Registration(self.apply(stored, next_poll_at, reschedule=False) or record, created=False)
            return Registration(record, created=False)
        return Registration(status_record(from_item(response.get("Attributes", {}))), created=True)

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
        by_id = {event.observation.message_id: event for event in events}
        created: dict[str, Registration] = {}
        existing: list[str] = []
        pending = list(by_id)
        for attempt in range(TRANSACTION_ATTEMPTS):
            retry: list[str] = []
            for start in range(0, len(pending), MESSAGES_PER_TRANSACTION):
                chunk = pending[start : start + MESSAGES_PER_TRANSACTION]
                outcomes = self._create_all([by_id[i] for i in chunk], reference, metadata, next_poll_at, now)
                for message_id, outcome in zip(chunk, outcomes, strict=True):
                    if isinstance(outcome, Registration):
                        created[message_id] = outcome
                    elif outcome == "exists":
                        existing.append(message_id)
                    else:
                        retry.append(message_id)
            pending = retry
            if not pending:
                break
            time.sleep(0.05 * 2**attempt)
        if pending:
            raise StorageUnavailableError("DynamoDB kept refusing the registration batch")
        for message_id in existing:
            created[message_id] = self.register(by_id[message_id], reference, metadata, next_poll_at)
        return [created[event.observation.message_id] for event in events]

    def _create_all(
        self,
        events: list[ReceivedEvent],
        reference: str | None,
        metadata: Mapping[str, str] | None,
        next_poll_at: datetime | None,
        now: datetime,
    ) -> list[Registration | str | None]:
        """One transaction writing each message's event and status item, none of which exists.

        Returns, per message, its registration (built from what was written: no read back),
        "exists" when its event or status was already stored, or None to try again (the
        transaction was canceled for another message, or a conflict).
        """
        items: list[Any] = []
        registrations: list[Registration] = []
        for event in events:
            event_put = {
                "TableName": self._table,
                "Item": event_item(event, self._history_expires_at(event.received_at)),
                "ConditionExpression": "attribute_not_exists(sk)",
            }
            update = self._registration_update(event, reference, metadata, next_poll_at, now)
            params = update.params(self._table, condition="attribute_not_exists(pk)")
            params.pop("ReturnValues")
            items += [{"Put": event_put}, {"Update": params}]
            registrations.append(Registration(status_record(update.created_item()), created=True))
        try:
            with dynamodb_errors():
                self._client.transact_write_items(TransactItems=items)
        except TransactionCanceledError as canceled:
            reasons = [reason.get("Code") for reason in canceled.reasons]
            return [
                "exists" if "ConditionalCheckFailed" in reasons[2 * index : 2 * index + 2] else None
                for index in range(len(events))
            ]
        return list(registrations)

    def _registration_update(
        self,
        event: ReceivedEvent,
        reference: str | None,
        metadata: Mapping[str, str] | None,
        next_poll_at: datetime | None,
        now: datetime,
    ) -> Update:
        """The status item of a new message: its first event, when it was registered, and the
        client's reference and metadata. One builder for the single and the batch path."""
        if event.observation.status is None:
            raise ValueError("a registration event needs a status")
        update = self._status_update(event, next_poll_at)
        update.set("registeredAt", iso(now))
        if reference is not None:
            update.set("reference", reference)
            update.set(REFERENCE_REGISTERED, True)
        if metadata:
            update.set("metadata", dict(metadata))
        return update

    def _adopt(
        self, existing: Item, reference: str | None, metadata: Mapping[str, str] | None, now: datetime
    ) -> StatusRecord:
        """Mark an already tracked message as registered, keeping the reference and metadata a
        registration gave it: the first registration's stay, a later one only adds what none gave.

        Registration wins over correlation data: the message's `metadata` is only ever a
        registration's (correlation data is kept apart), and a reference the message has from its
        correlation data (no registration marked it) gives way to the registration's; the write
        is conditional on no registration having claimed the reference meanwhile. No write at all
        when there is nothing to add (a repeated registration).
        """
        additions: dict[str, Any] = {}
        if "registeredAt" not in existing:
            additions["registeredAt"] = iso(now)
        if metadata and "metadata" not in existing:
            additions["metadata"] = dict(metadata)
        claim = reference is not None and _reference_unclaimed(existing)
        if not additions and not claim:
            return status_record(existing)
        update = Update({"pk": to_attr(existing["pk"]), "sk": to_attr(existing["sk"])}, now)
        for name, value in additions.items():
            update.set_if_absent(name, value)
        condition = None
        if claim:
            update.set("reference", reference)
            update.set(REFERENCE_REGISTERED, True)
            condition = f"attribute_not_exists({REFERENCE_REGISTERED})"
        try:
            with dynamodb_errors():
                response = self._client.update_item(
                    **update.params(self._table, condition=condition, return_values="ALL_NEW"),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ConditionFailedError as failed:
            return self._adopt(failed.old, reference, metadata, now)  # another registration's reference came first
        return status_record(from_item(response.get("Attributes", {})))


def _reference_unclaimed(existing: Item) -> bool:
    """No registration gave the message a reference: it has none, or only one from its correlation
    data (`REFERENCE_KEY`; a message without correlation data cannot have that)."""
    if existing.get(REFERENCE_REGISTERED):
        return False
    return "reference" not in existing or "correlation" in existing
