"""Comapi's `metadata` (what the sender gave at send time, echoed at `payload.metadata` in every
webhook event and in the message resource Get Status answers) read as correlation data, within
the registration API's limits; no shape of it fails an event."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from local.simulators.comapi import ComapiSimulator
from tests.conftest import TEST_ENV
from tests.support.adapters import comapi_adapter
from tests.support.metrics import counted
from tests.support.payloads import COMAPI_MESSAGE_ID, CORRELATION_OBJECTS, NOW, comapi_envelope, comapi_signature
from textstatus.events import Correlation, Observation
from textstatus.providers.callbacks import CallbackRequest

ABSENT = object()


def webhook_observations(*metadata: Any) -> list[Observation]:
    """The observations of a batch of events, the nth with payload.metadata `metadata[n]`."""
    batch = []
    for index, value in enumerate(metadata):
        envelope = comapi_envelope(event_id=f"e{index}")
        if value is ABSENT:
            del envelope["payload"]["metadata"]
        else:
            envelope["payload"]["metadata"] = value
        batch.append(envelope)
    body = json.dumps(batch).encode()
    request = CallbackRequest("POST", {"x-comapi-signature": comapi_signature(body)}, {}, body)
    parsed = comapi_adapter().parse_callback(request, NOW)
    assert parsed.ignored == 0
    return parsed.observations


def test_the_metadata_echoed_in_a_webhook_becomes_the_correlation_metadata() -> None:
    (observation,) = webhook_observations({"orderId": "order-1234", "campaign": "spring"})
    assert observation.message_id == COMAPI_MESSAGE_ID
    assert observation.correlation == Correlation({"orderId": "order-1234", "campaign": "spring"})


@pytest.mark.parametrize(("given", "metadata", "dropped"), CORRELATION_OBJECTS.values(), ids=CORRELATION_OBJECTS.keys())
def test_webhook_metadata_within_the_metadata_limits(
    given: dict[str, Any], metadata: dict[str, str] | None, dropped: bool
) -> None:
    (observation,) = webhook_observations(given)
    assert observation.correlation == (Correlation(metadata) if metadata is not None else None)
    assert (counted("CorrelationDataDropped") > 0) is dropped


def test_metadata_of_any_other_shape_keeps_nothing_and_every_event_is_kept() -> None:
    shapes = [ABSENT, None, "order-1234", "", 1234, True, ["orderId"], '{"orderId": "order-1234"}']
    observations = webhook_observations(*shapes)
    assert len(observations) == len(shapes)
    assert [o.correlation for o in observations] == [None] * len(shapes)
    # Not an object, and present: dropped with a warning (absent, null and "" are no data at all).
    assert counted("CorrelationDataDropped") == 5


# Get Status answers the message resource, with its metadata ---------------------------------


def test_a_poll_or_lookup_keeps_the_metadata_of_the_message_resource(comapi_sim: ComapiSimulator) -> None:
    response = requests.post(
        f"{comapi_sim.url}{comapi_sim.messages_path}",
        json={
            "body": "Your parcel arrives today",
            "to": {"phoneNumber": "447700900000"},
            "rules": ["sms"],
            "metadata": {"orderId": "order-77", "items": [1, 2]},
        },
        headers={"Authorization": f"Bearer {TEST_ENV['COMAPI_TOKEN']}"},
        timeout=5,
    )
    assert response.status_code == 201, response.text
    observation = comapi_adapter(comapi_sim).fetch_status(response.json()["messageId"], datetime.now(UTC))
    assert observation is not None
    assert observation.correlation == Correlation({"orderId": "order-77", "items": "[1,2]"})


def test_a_send_response_brings_no_correlation_data() -> None:
    # Registration gives its own metadata; the 201's claim is only the provider's first word.
    sent = {"messageId": COMAPI_MESSAGE_ID, "status": "processing", "metadata": {"orderId": "order-1"}}
    (message,) = comapi_adapter().messages_in_send_response(sent, NOW).messages
    assert message.first is not None
    assert message.first.correlation is None
