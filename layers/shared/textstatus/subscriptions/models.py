"""The subscription routes' HTTP resources, and the one mapping from records to them."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from textstatus.clock import iso
from textstatus.events import storable_text
from textstatus.providers.registry import PROVIDER_NAMES
from textstatus.status import Status
from textstatus.subscriptions.records import DeliveryAttempt, Subscription, SubscriptionFilter
from textstatus.subscriptions.targets import MAX_URL_LENGTH

SUBSCRIPTION_ID_PATTERN = r"^[A-Za-z0-9-]{1,64}$"
MAX_DESCRIPTION_LENGTH = 256
MAX_DELIVERIES = 100

# The filter's words: the API's own vocabularies, so an unknown provider or status is a 422.
ProviderName = Literal["usajobs", "comapi", "govdelivery", "wunderkind"]
assert set(get_args(ProviderName)) == set(PROVIDER_NAMES), "the filter's providers are the registry's"


class _CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class FilterBody(_CamelModel):
    """Which changes to deliver; an empty or missing list means any."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    providers: list[ProviderName] = Field(default_factory=list, max_length=len(PROVIDER_NAMES))
    statuses: list[Status] = Field(default_factory=list, max_length=len(Status))
    final_only: bool = Field(False, strict=True, description="Only changes to a final status.")

    def to_filter(self) -> SubscriptionFilter:
        return SubscriptionFilter(
            providers=tuple(dict.fromkeys(self.providers)),
            statuses=tuple(dict.fromkeys(status.value for status in self.statuses)),
            final_only=self.final_only,
        )


class CreateSubscription(_CamelModel):
    """A webhook to call when a status changes: a public https URL."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    url: str = Field(min_length=1, max_length=MAX_URL_LENGTH, examples=["https://hooks.example.com/textstatus"])
    # Printable text: no control characters (NUL, escapes) to reach a log line or a terminal.
    description: (
        Annotated[
            str,
            StringConstraints(max_length=MAX_DESCRIPTION_LENGTH, pattern=r"^[^\x00-\x1f\x7f]*$"),
            AfterValidator(storable_text),
        ]
        | None
    ) = Field(None, examples=["order notifications"])
    filter: FilterBody | None = None


class SubscriptionResource(_CamelModel):
    """A subscription, without its signing secret."""

    id: str = Field(examples=["0b8f6a8e-3c1d-4d55-9a57-6d2f2b0c9e41"])
    url: str = Field(examples=["https://hooks.example.com/textstatus"])
    description: str | None = None
    filter: FilterBody
    enabled: bool
    disabled_reason: str | None = Field(None, description="Why deliveries stopped, when they did.")
    created_at: str


class CreatedSubscription(SubscriptionResource):
    secret: str = Field(
        description="The signing secret (Standard Webhooks): shown only in this answer.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class SubscriptionList(_CamelModel):
    subscriptions: list[SubscriptionResource]


class RotatedSecret(_CamelModel):
    secret: str = Field(
        description="The new signing secret; deliveries carry a signature with the previous one too for 24 hours.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class DeliveryResource(_CamelModel):
    """One attempt to deliver one change."""

    webhook_id: str = Field(description="The `webhook-id` header: the same for every attempt of one change.")
    provider: str = Field(examples=["wunderkind"])
    message_id: str
    sequence: int = Field(description="The message's status version this change made.")
    attempt: int
    status_code: int | None = Field(None, description="The HTTP status the endpoint answered, if it answered.")
    error: str | None = Field(None, description="Why the attempt failed without an answer.")
    at: str
    outcome: Literal["delivered", "retrying", "dead-lettered", "disabled", "dropped"]


class DeliveryList(_CamelModel):
    deliveries: list[DeliveryResource]


def subscription_resource(subscription: Subscription) -> SubscriptionResource:
    """The one mapping from a stored subscription to the API's resource (no secret in it)."""
    return SubscriptionResource(
        id=subscription.id,
        url=subscription.url,
        description=subscription.description,
        filter=FilterBody(
            providers=list(subscription.filter.providers),  # type: ignore[arg-type]
            statuses=[Status(status) for status in subscription.filter.statuses],
            final_only=subscription.filter.final_only,
        ),
        enabled=subscription.enabled,
        disabled_reason=subscription.disabled_reason,
        created_at=iso(subscription.created_at),
    )


def delivery_resource(attempt: DeliveryAttempt) -> DeliveryResource:
    return DeliveryResource(
        webhook_id=attempt.webhook_id,
        provider=attempt.provider,
        message_id=attempt.message_id,
        sequence=attempt.sequence,
        attempt=attempt.attempt,
        status_code=attempt.status_code,
        error=attempt.error,
        at=iso(attempt.at),
        outcome=attempt.outcome,  # type: ignore[arg-type]
    )
