"""Subscriptions and their delivery records in the one table, built like the message store.

- Every subscription lives under one partition, `pk = SUBSCRIPTIONS`, `sk = SUB#<id>`, so listing
  them all is one Query (no scan). A subscription is kept until it is deleted: no TTL.
- Each delivery attempt is its own item, `pk = DELIVERIES#<subscription id>`,
  `sk = <iso time>#<webhook id>#<attempt>` (so a Query newest first is the recent attempts), with
  the TTL `expiresAt` 30 days after the attempt.

Neither kind carries `dueShard` or `reference`, so none enters the message indexes, and neither
has `sk = STATUS`, so the notifier's stream filter never sees them.
"""

from __future__ import annotations

import base64
import builtins
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from textstatus.clock import epoch_seconds, iso, parse_iso, utcnow
from textstatus.errors import StorageUnavailableError
from textstatus.store.encoding import Item, Key, from_item, to_attr
from textstatus.store.requests import ConditionFailedError, dynamodb_errors
from textstatus.subscriptions.records import DeliveryAttempt, SigningSecret, Subscription, SubscriptionFilter

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

SUBSCRIPTIONS_PK = "SUBSCRIPTIONS"
SUBSCRIPTION_PREFIX = "SUB#"
DELIVERIES_PREFIX = "DELIVERIES#"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret
# After a rotation the previous secret still signs deliveries this long, so receivers can switch.
SECRET_OVERLAP = timedelta(hours=24)
DELIVERY_RETENTION = timedelta(days=30)
_ROTATION_ATTEMPTS = 3


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def subscription_key(subscription_id: str) -> Key:
    return {"pk": {"S": SUBSCRIPTIONS_PK}, "sk": {"S": SUBSCRIPTION_PREFIX + subscription_id}}


class SubscriptionStore:
    def __init__(self, client: DynamoDBClient, table_name: str, clock: Callable[[], datetime] = utcnow) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    # Subscriptions -----------------------------------------------------------------------

    def create(self, url: str, description: str | None, filter: SubscriptionFilter) -> tuple[Subscription, str]:  # noqa: A002
        """A new, enabled subscription and its signing secret (the only time the secret is handed out)."""
        secret = new_secret()
        subscription = Subscription(
            id=str(uuid.uuid4()),
            url=url,
            description=description,
            filter=filter,
            enabled=True,
            created_at=self._clock(),
            secrets=(SigningSecret(secret, None),),
        )
        with dynamodb_errors():
            self._client.put_item(
                TableName=self._table,
                Item=_subscription_item(subscription),
                ConditionExpression="attribute_not_exists(pk)",
            )
        return subscription, secret

    def list(self) -> list[Subscription]:
        """Every subscription, oldest id order (one Query over their partition, following pages)."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": SUBSCRIPTIONS_PK}, ":prefix": {"S": SUBSCRIPTION_PREFIX}},
        }
        found: list[Subscription] = []
        while True:
            with dynamodb_errors():
                response = self._client.query(**params)
            found += [_subscription(from_item(raw)) for raw in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last:
                return found
            params["ExclusiveStartKey"] = last

    def get(self, subscription_id: str) -> Subscription | None:
        with dynamodb_errors():
            response = self._client.get_item(
                TableName=self._table, Key=subscription_key(subscription_id), ConsistentRead=True
            )
        raw = response.get("Item")
        return _subscription(from_item(raw)) if raw else None

    def delete(self, subscription_id: str) -> bool:
        """True when the subscription existed. Its delivery records stay until their TTL."""
        with dynamodb_errors():
            response = self._client.delete_item(
                TableName=self._table, Key=subscription_key(subscription_id), ReturnValues="ALL_OLD"
            )
        return bool(response.get("Attributes"))

    def rotate_secret(self, subscription_id: str, now: datetime) -> str | None:
        """A new current secret; the one it replaces keeps signing until `now + 24 h`, and any
        older one is dropped. None when there is no such subscription. Conditional on the
        secrets being those read, so two concurrent rotations never lose a secret."""
        for _ in range(_ROTATION_ATTEMPTS):
            current = self.get(subscription_id)
            if current is None:
                return None
            secret = new_secret()
            kept = (SigningSecret(current.secrets[0].value, now + SECRET_OVERLAP),) if current.secrets else ()
            try:
                with dynamodb_errors():
                    self._client.update_item(
                        TableName=self._table,
                        Key=subscription_key(subscription_id),
                        UpdateExpression="SET #secrets = :new",
                        ConditionExpression="attribute_exists(pk) AND #secrets = :old",
                        ExpressionAttributeNames={"#secrets": "secrets"},
                        ExpressionAttributeValues={
                            ":new": to_attr(_secrets_value((SigningSecret(secret, None), *kept))),
                            ":old": to_attr(_secrets_value(current.secrets)),
                        },
                    )
            except ConditionFailedError:
                continue  # deleted or rotated meanwhile: read again
            return secret
        raise StorageUnavailableError("the subscription kept changing during the rotation: try again")

    def disable(self, subscription_id: str, reason: str) -> None:
        """Stop deliveries to a subscription (its endpoint keeps failing, or is refused); a
        subscription that no longer exists is left alone."""
        try:
            with dynamodb_errors():
                self._client.update_item(
                    TableName=self._table,
                    Key=subscription_key(subscription_id),
                    UpdateExpression="SET enabled = :false, disabledReason = :reason",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":false": {"BOOL": False}, ":reason": {"S": reason}},
                )
        except ConditionFailedError:
            return

    # Delivery records --------------------------------------------------------------------

    def record_delivery(self, attempt: DeliveryAttempt) -> None:
        with dynamodb_errors():
            self._client.put_item(TableName=self._table, Item=_delivery_item(attempt))

    def deliveries(self, subscription_id: str, limit: int = 100) -> builtins.list[DeliveryAttempt]:
        """The most recent attempts, newest first (expired ones left out: TTL deletion is lazy)."""
        now = epoch_seconds(self._clock())
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": DELIVERIES_PREFIX + subscription_id}},
            "ScanIndexForward": False,
        }
        found: builtins.list[DeliveryAttempt] = []
        while len(found) < limit:
            params["Limit"] = limit - len(found)
            with dynamodb_errors():
                response = self._client.query(**params)
            items = [from_item(raw) for raw in response.get("Items", [])]
            found += [_delivery(item) for item in items if int(item.get("expiresAt", 0)) > now]
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            params["ExclusiveStartKey"] = last
        return found[:limit]


# The one mapping between records and items ------------------------------------------------


def _secrets_value(secrets_: tuple[SigningSecret, ...]) -> list[dict[str, str]]:
    return [
        {"value": s.value, **({"expiresAt": iso(s.expires_at)} if s.expires_at is not None else {})} for s in secrets_
    ]


def _subscription_item(subscription: Subscription) -> Key:
    attributes: dict[str, Any] = {
        "pk": SUBSCRIPTIONS_PK,
        "sk": SUBSCRIPTION_PREFIX + subscription.id,
        "id": subscription.id,
        "url": subscription.url,
        "description": subscription.description,
        "filter": {
            "providers": list(subscription.filter.providers),
            "statuses": list(subscription.filter.statuses),
            "finalOnly": subscription.filter.final_only,
        },
        "enabled": subscription.enabled,
        "createdAt": iso(subscription.created_at),
        "secrets": _secrets_value(subscription.secrets),
        "disabledReason": subscription.disabled_reason,
    }
    return {name: to_attr(value) for name, value in attributes.items() if value is not None}


def _subscription(item: Item) -> Subscription:
    filter_ = item.get("filter") or {}
    return Subscription(
        id=item["id"],
        url=item["url"],
        description=item.get("description"),
        filter=SubscriptionFilter(
            providers=tuple(filter_.get("providers") or ()),
            statuses=tuple(filter_.get("statuses") or ()),
            final_only=bool(filter_.get("finalOnly", False)),
        ),
        enabled=bool(item.get("enabled", True)),
        created_at=parse_iso(item["createdAt"]),
        secrets=tuple(
            SigningSecret(s["value"], parse_iso(s["expiresAt"]) if s.get("expiresAt") else None)
            for s in item.get("secrets") or ()
        ),
        disabled_reason=item.get("disabledReason"),
    )


def _delivery_item(attempt: DeliveryAttempt) -> Key:
    attributes: dict[str, Any] = {
        "pk": DELIVERIES_PREFIX + attempt.subscription_id,
        "sk": f"{iso(attempt.at)}#{attempt.webhook_id}#{attempt.attempt:04d}",
        "subscriptionId": attempt.subscription_id,
        "webhookId": attempt.webhook_id,
        "provider": attempt.provider,
        "messageId": attempt.message_id,
        "sequence": attempt.sequence,
        "attempt": attempt.attempt,
        "statusCode": attempt.status_code,
        "error": attempt.error,
        "at": iso(attempt.at),
        "outcome": attempt.outcome,
        "expiresAt": epoch_seconds(attempt.at + DELIVERY_RETENTION),
    }
    return {name: to_attr(value) for name, value in attributes.items() if value is not None}


def _delivery(item: Item) -> DeliveryAttempt:
    return DeliveryAttempt(
        subscription_id=item["subscriptionId"],
        webhook_id=item["webhookId"],
        provider=item["provider"],
        message_id=item["messageId"],
        sequence=int(item["sequence"]),
        attempt=int(item["attempt"]),
        status_code=int(item["statusCode"]) if item.get("statusCode") is not None else None,
        error=item.get("error"),
        at=parse_iso(item["at"]),
        outcome=item["outcome"],
    )
