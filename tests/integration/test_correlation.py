"""The sender's own correlation data through the handlers on moto: a message that reached us only
through callbacks keeps it as its metadata and, with REFERENCE_KEY, takes its reference from it;
a registration's reference and metadata always win, whichever came first; a later report never
overwrites it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.simulators.comapi import ComapiSimulator
from tests.support.api import events_of, get, register, status_of, wunderkind_post
from tests.support.aws import table_items
from tests.support.metrics import published
from tests.support.payloads import WUNDERKIND_MESSAGE_ID as MESSAGE_ID
from tests.support.payloads import wunderkind_callback

ORDER = {"orderId": "order-1234", "shop": "eu-1"}


@pytest.fixture
def reference_key(env: pytest.MonkeyPatch) -> str:
    env.setenv("REFERENCE_KEY", "orderId")
    return "orderId"


def callback(callbacks: Any, word: str, data: dict[str, Any] | str | None = None) -> None:
    """A Wunderkind callback for MESSAGE_ID with `data` as its callbackData (JSON text)."""
    callback_data = data if isinstance(data, str) or data is None else json.dumps(data)
    code, answer = wunderkind_post(callbacks, wunderkind_callback(word, callbackData=callback_data))
    assert code == 200, answer


def listed(status_api: Any, reference: str) -> list[str]:
    code, _, body = get(status_api, "/v1/messages", reference=reference)
    assert code == 200, body
    return [message["messageId"] for message in body["messages"]]


def status_item() -> dict[str, Any]:
    (item,) = [item for item in table_items() if item["sk"]["S"] == "STATUS"]
    return item


def test_a_message_known_only_from_callbacks_keeps_their_data_and_is_found_by_its_reference(
    callbacks: Any, status_api: Any, reference_key: str
) -> None:
    for word in ("PENDING_TO_SEND", "SENDING", "DELIVERED"):
        callback(callbacks, word, ORDER)
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert (status["status"], status["metadata"], status["reference"]) == ("delivered", ORDER, "order-1234")
    assert listed(status_api, "order-1234") == [MESSAGE_ID]
    # The history keeps what the provider reported, not the sender's data; nor is the phone stored.
    assert all("metadata" not in event for event in events_of(status_api, "wunderkind", MESSAGE_ID))
    assert "+15551230000" not in json.dumps(table_items())


def test_without_a_reference_key_the_data_is_kept_and_no_reference_taken(callbacks: Any, status_api: Any) -> None:
    callback(callbacks, "DELIVERED", ORDER)
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert (status["metadata"], status["reference"]) == (ORDER, None)
    assert listed(status_api, "order-1234") == []


def test_the_first_data_stays_a_later_callback_never_overwrites_it(
    callbacks: Any, status_api: Any, reference_key: str
) -> None:
    callback(callbacks, "SENDING", {"orderId": "order-1"})
    callback(callbacks, "DELIVERED", {"orderId": "order-2", "extra": "x"})
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert (status["status"], status["metadata"], status["reference"]) == (
        "delivered",
        {"orderId": "order-1"},
        "order-1",
    )
    assert listed(status_api, "order-2") == []


def test_a_registration_first_keeps_its_reference_and_metadata(
    callbacks: Any, status_api: Any, reference_key: str
) -> None:
    registered = {"provider": "wunderkind", "messageId": MESSAGE_ID, "reference": "reg-1", "metadata": {"a": "1"}}
    assert register(status_api, registered)[0] == 201
    for word in ("SENDING", "DELIVERED"):
        callback(callbacks, word, ORDER)
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert (status["status"], status["metadata"], status["reference"]) == ("delivered", {"a": "1"}, "reg-1")
    assert listed(status_api, "order-1234") == []


def test_a_later_registration_wins_over_what_callbacks_brought(
    callbacks: Any, status_api: Any, reference_key: str
) -> None:
    callback(callbacks, "DELIVERED", ORDER)
    code, answer = register(status_api, {"provider": "wunderkind", "messageId": MESSAGE_ID})
    assert code == 201
    # A registration that gives neither keeps what the callbacks brought.
    assert (answer["messages"][0]["metadata"], answer["messages"][0]["reference"]) == (ORDER, "order-1234")
    code, answer = register(
        status_api, {"provider": "wunderkind", "messageId": MESSAGE_ID, "reference": "reg-2", "metadata": {"a": "1"}}
    )
    assert (code, answer["messages"][0]["new"]) == (201, False)
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert (status["status"], status["metadata"], status["reference"]) == ("delivered", {"a": "1"}, "reg-2")
    assert (listed(status_api, "order-1234"), listed(status_api, "reg-2")) == ([], [MESSAGE_ID])
    # From then on the first registration's stay, as for any registered message.
    register(
        status_api, {"provider": "wunderkind", "messageId": MESSAGE_ID, "reference": "reg-3", "metadata": {"b": "2"}}
    )
    callback(callbacks, "DELIVERED", {"orderId": "order-9"})
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert (status["metadata"], status["reference"]) == ({"a": "1"}, "reg-2")


def test_a_message_registered_without_them_gains_them_and_a_later_registration_still_wins(
    callbacks: Any, status_api: Any, reference_key: str
) -> None:
    assert register(status_api, {"provider": "wunderkind", "messageId": MESSAGE_ID})[0] == 201
    callback(callbacks, "DELIVERED", ORDER)
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert (status["metadata"], status["reference"]) == (ORDER, "order-1234")
    register(status_api, {"provider": "wunderkind", "messageId": MESSAGE_ID, "reference": "reg-4"})
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert (status["metadata"], status["reference"]) == (ORDER, "reg-4")
    assert listed(status_api, "order-1234") == []


def test_a_registered_reference_equal_to_the_datas_is_still_the_registrations(
    callbacks: Any, status_api: Any, reference_key: str
) -> None:
    register(status_api, {"provider": "wunderkind", "messageId": MESSAGE_ID, "reference": "order-1234"})
    callback(callbacks, "DELIVERED", ORDER)
    register(status_api, {"provider": "wunderkind", "messageId": MESSAGE_ID, "reference": "other"})
    assert status_of(status_api, "wunderkind", MESSAGE_ID)["reference"] == "order-1234"


def test_a_report_that_changes_nothing_still_brings_the_data_once(
    callbacks: Any, status_api: Any, reference_key: str
) -> None:
    callback(callbacks, "DELIVERED", "")  # Wunderkind's dummy callbackData: no data
    callback(callbacks, "SENDING", ORDER)  # late: changes nothing
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert (status["status"], status["version"]) == ("delivered", 1)
    assert (status["metadata"], status["reference"]) == (ORDER, "order-1234")
    callback(callbacks, "PENDING_TO_SEND", {"orderId": "order-2"})
    assert status_of(status_api, "wunderkind", MESSAGE_ID)["metadata"] == ORDER


def test_a_duplicate_callback_still_brings_the_data(callbacks: Any, status_api: Any, reference_key: str) -> None:
    # The first copy was stored in the history before its status update failed: the retry is a
    # duplicate, re-applied from the stored copy (which keeps no correlation data) with this one's.
    callback(callbacks, "DELIVERED", "")
    callback(callbacks, "DELIVERED", ORDER)
    assert status_of(status_api, "wunderkind", MESSAGE_ID)["metadata"] == ORDER


def test_a_value_that_is_no_reference_is_kept_as_metadata_only(
    callbacks: Any, status_api: Any, reference_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    callback(callbacks, "DELIVERED", {"orderId": "has a space", "shop": "eu-1"})
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert (status["status"], status["metadata"], status["reference"]) == (
        "delivered",
        {"orderId": "has a space", "shop": "eu-1"},
        None,
    )
    assert published(capsys.readouterr().out, "CorrelationDataDropped") == 1


def test_hostile_callback_data_never_fails_the_callback_nor_reaches_the_table_or_the_logs(
    callbacks: Any, status_api: Any, reference_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    callback(callbacks, "DELIVERED", {"orderId": "v" * 300, "bad key": "hidden", "nested": [[[["x" * 300]]]]})
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert (status["status"], status["metadata"], status["reference"]) == ("delivered", {}, None)
    assert "correlation" not in status_item()
    assert "hidden" not in json.dumps(table_items())
    output = capsys.readouterr().out
    assert published(output, "CorrelationDataDropped") == 3
    assert "hidden" not in output
    assert "v" * 50 not in output


def test_a_lookup_of_a_comapi_message_keeps_its_metadata_and_reference(
    comapi_sim: ComapiSimulator, status_api: Any, reference_key: str
) -> None:
    message = comapi_sim.add_message([("sent", 0.0)], phone="447700900000", metadata={"orderId": "order-55"})
    status = status_of(status_api, "comapi", message.message_id)
    assert (status["source"], status["metadata"], status["reference"]) == (
        "lookup",
        {"orderId": "order-55"},
        "order-55",
    )
    assert listed(status_api, "order-55") == [message.message_id]


def test_a_phone_number_or_email_in_the_data_is_masked_and_never_becomes_the_reference(
    callbacks: Any, status_api: Any, reference_key: str
) -> None:
    callback(callbacks, "DELIVERED", {"orderId": "+1 (202) 555-0199", "contact": "bob@example.com", "shop": "eu-1"})
    status = status_of(status_api, "wunderkind", MESSAGE_ID)
    assert status["metadata"] == {"orderId": "*******0199", "contact": "[email]", "shop": "eu-1"}
    assert status["reference"] is None
    stored = json.dumps(table_items())
    for personal in ("555-0199", "2025550199", "bob@example.com"):
        assert personal not in stored
