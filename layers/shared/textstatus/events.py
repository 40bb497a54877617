"""What a provider told us about one message, before and after it is stored."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from textstatus.clock import iso
from textstatus.status import Reason, Status, order_key

# Message ids and references become DynamoDB keys and URL path segments: keep them to a
# documented size and a character set that needs no escaping anywhere.
MESSAGE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$"
REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,255}$"
_MESSAGE_ID = re.compile(MESSAGE_ID_PATTERN)
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(text: str) -> str:
    """`text` as valid Unicode: each lone surrogate (which UTF-8 cannot encode) becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def has_lone_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def is_valid_message_id(value: object) -> bool:
    return isinstance(value, str) and _MESSAGE_ID.fullmatch(value) is not None


class Source(StrEnum):
    REGISTRATION = "registration"
    CALLBACK = "callback"
    POLL = "poll"
    LOOKUP = "lookup"
    DEADLINE = "deadline"


@dataclass(frozen=True)
class Correlation:
    """The sender's own data about a message, as a provider echoed it with a report (Wunderkind's
    `callbackData`, Comapi's `metadata`), already within the metadata limits (`textstatus.correlation`).

    `reference` is the entry `REFERENCE_KEY` names, when the service is set to take one.
    """

    metadata: Mapping[str, str]
    reference: str | None = None


@dataclass(frozen=True)
class Observation:
    """One status report from a provider, already mapped to the normalized vocabulary.

    `status` is None when the provider's word is unknown to us: the observation is still
    kept in the history (reason `unknown`), but it never changes the current status.
    `event_at` is the provider's own time when it gives one, otherwise when we observed it.
    """

    provider: str
    message_id: str
    status: Status | None
    reason: Reason | None
    provider_status: str | None
    event_at: datetime
    provider_detail: str | None = None
    segments: dict[str, int] | None = None
    recipients: dict[str, int] | None = None
    provider_event_id: str | None = None
    provider_gave_time: bool = False
    # The recipient a report is about, when the provider names one (a GovDelivery recipient
    # callback); not part of the event id.
    recipient_id: str | None = None
    # Not part of what was reported (not in the event id, not in the history): the sender's data
    # that came with the report, kept on the message where it has none.
    correlation: Correlation | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Whatever a provider sent becomes text we can store and hash: a lone UTF-16 surrogate
        # ("\ud800" in JSON) cannot be encoded as UTF-8, and would fail every write of it.
        for name in ("provider_status", "provider_detail", "provider_event_id"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, storable_text(value))

    @property
    def event_id(self) -> str:
        """A stable id, so that the same report received twice is stored once.

        The provider's own event id when it has one (Comapi's `eventId`); otherwise a digest
        of what was reported. Our observation time is left out of the digest, so a callback
        and a poll that report the same word without a provider time are one event.
        """
        if self.provider_event_id:
            return f"{self.provider}:{self.provider_event_id}"
        parts = [
            self.provider,
            self.message_id,
            self.status.value if self.status else "",
            self.provider_status or "",
            self.provider_detail or "",
            iso(self.event_at) if self.provider_gave_time else "",
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    def as_first_sign(self) -> Observation:
        """What a word we do not know still tells us: the provider has the message.

        `accepted` (reason `unknown`, the provider's word kept), ranked below every real status,
        so any word we know replaces it by the ordering rule.
        """
        return Observation(
            provider=self.provider,
            message_id=self.message_id,
            status=Status.ACCEPTED,
            reason=Reason.UNKNOWN,
            provider_status=self.provider_status,
            event_at=self.event_at,
            provider_detail=self.provider_detail,
            provider_event_id=self.event_id,
            correlation=self.correlation,
        )

    @property
    def order_key(self) -> str | None:
        if self.status is None:
            return None
        return order_key(self.status, self.event_at, f"{self.provider_status or ''}#{self.event_id}")


@dataclass(frozen=True)
class ReceivedEvent:
    """An observation as the service received it: its source and when."""

    observation: Observation
    source: Source
    received_at: datetime
