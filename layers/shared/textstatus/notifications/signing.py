"""Standard Webhooks signatures (https://www.standardwebhooks.com), made by the `standardwebhooks`
package: `webhook-signature` is `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one per
secret, space-separated (two during a rotation, so receivers can switch secrets at any time)."""

from __future__ import annotations

from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


def signature(secrets: list[str], webhook_id: str, at: datetime, body: str) -> str:
    if not secrets:
        raise ValueError("a subscription without a signing secret cannot be delivered")
    moment = at.astimezone(UTC)
    return " ".join(Webhook(secret).sign(webhook_id, moment, body) for secret in secrets)


def headers(secrets: list[str], webhook_id: str, at: datetime, body: str) -> dict[str, str]:
    """The headers of one attempt: its own timestamp (Unix seconds), signed with the body."""
    return {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature(secrets, webhook_id, at, body),
    }
