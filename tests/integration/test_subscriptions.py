"""Webhook subscriptions through the real handler on moto: create, list, get, delete, rotate the
secret, recent deliveries; refused targets; the store's own contract for the delivery side."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.aws import api_event, invoke, table_items
from textstatus import runtime
from textstatus.errors import InvalidRequestError
from textstatus.subscriptions import DeliveryAttempt, SubscriptionFilter, SubscriptionStore, check_target

PUBLIC_URL = "https://93.184.216.34/hook"

# Every one answered 422 TargetRefused with nothing stored.
REFUSED_TARGETS = [
    "https://10.0.0.1/hook",
    "https://10.255.255.254/",
    "https://172.16.0.1/hook",
    "https://172.31.255.1/",
    "https://192.168.1.10/hook",
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "http://localhost:9000/",
    "http://127.0.0.1:9000/",
    "https://169.254.169.254/latest/meta-data/",
    "https://0.0.0.0/",
    "https://[::1]/",
    "https://[fc00::1]/",
    "https://[fd12:3456::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[fe80::1]/",
    "https://100.64.0.1/",
    "https://2130706433/",
    "http://2130706433/",
    "https://0177.0.0.1/",
    "https://0x7f000001/",
    "https://127.1/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://[2002:7f00:1::]/",
    "https://user:pass@93.184.216.34/",
    "https://93.184.216.34@127.0.0.1/",
    "http://93.184.216.34/hook",
    "ftp://93.184.216.34/hook",
    "file:///etc/passwd",
    "gopher://93.184.216.34:70/_",
    "javascript:alert(1)",
    "https:///hook",
    "https://",
    "https://does-not-resolve.invalid/hook",
    "https://93.184.216.34:99999/",
    "https://93.184.216.34:0/",
    "https://93.184.216.34 /hook",
    "https://93.184.216.34\\@127.0.0.1/",
    # Read differently by our parser and the HTTP client (a hostile pass found them accepted).
    "http://[::1]]:9101/ok/malformed",
    "https://[2606:4700:4700::1111]]/",
    "https://8.8.8.8%00/",
    "https://8.8.8.8%41/",
    "https://8.8.8.8%/",
    "https://8.8.8.8%00.127.0.0.1/",
]


@pytest.fixture
def subscriptions(aws: None) -> Any:
    from functions.subscriptions import app

    return app


def call(app: Any, method: str, path: str, body: Any = None, **query: str) -> tuple[int, Any]:
    code, _, answer = invoke(app, api_event(method, path, body=body, query=query or None))
    return code, answer


def create(app: Any, **body: Any) -> dict[str, Any]:
    code, answer = call(app, "POST", "/v1/subscriptions", {"url": PUBLIC_URL, **body})
    assert code == 201, answer
    return dict(answer)


def subscription_items() -> list[dict[str, Any]]:
    return [item for item in table_items() if item["pk"]["S"].startswith(("SUBSCRIPTIONS", "DELIVERIES#"))]


def test_create_list_get_delete(subscriptions: Any) -> None:
    created = create(
        subscriptions,
        description="orders",
        filter={"providers": ["wunderkind"], "statuses": ["delivered", "failed"], "finalOnly": True},
    )
    assert created["url"] == PUBLIC_URL
    assert created["description"] == "orders"
    assert created["enabled"] is True
    assert created["filter"] == {"providers": ["wunderkind"], "statuses": ["delivered", "failed"], "finalOnly": True}
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 32
    sid = created["id"]

    code, listed = call(subscriptions, "GET", "/v1/subscriptions")
    assert code == 200
    assert [s["id"] for s in listed["subscriptions"]] == [sid]
    assert "secret" not in listed["subscriptions"][0]

    code, one = call(subscriptions, "GET", f"/v1/subscriptions/{sid}")
    assert code == 200
    assert "secret" not in one
    assert {k: one[k] for k in ("id", "url", "description", "filter", "enabled", "createdAt")} == {
        k: created[k] for k in ("id", "url", "description", "filter", "enabled", "createdAt")
    }

    code, answer = call(subscriptions, "DELETE", f"/v1/subscriptions/{sid}")
    assert (code, answer) == (204, None)
    code, answer = call(subscriptions, "GET", f"/v1/subscriptions/{sid}")
    assert code == 404
    assert (answer["error"]["code"], answer["error"]["target"]) == ("SubscriptionNotFound", "id")
    code, answer = call(subscriptions, "DELETE", f"/v1/subscriptions/{sid}")
    assert (code, answer["error"]["code"]) == (404, "SubscriptionNotFound")
    assert call(subscriptions, "GET", "/v1/subscriptions")[1] == {"subscriptions": []}


def test_a_subscription_without_a_filter_takes_everything(subscriptions: Any) -> None:
    created = create(subscriptions)
    assert created["filter"] == {"providers": [], "statuses": [], "finalOnly": False}
    assert created["description"] is None
    stored = runtime.subscriptions().get(created["id"])
    assert stored is not None
    assert stored.filter == SubscriptionFilter()
    assert stored.filter.matches("comapi", "sent", final=False)


def test_the_secret_is_shown_once_and_never_logged(subscriptions: Any, capsys: pytest.CaptureFixture[str]) -> None:
    created = create(subscriptions)
    secret, sid = created["secret"], created["id"]
    _, listed = call(subscriptions, "GET", "/v1/subscriptions")
    _, one = call(subscriptions, "GET", f"/v1/subscriptions/{sid}")
    code, rotated = call(subscriptions, "POST", f"/v1/subscriptions/{sid}/rotate-secret")
    assert code == 200
    _, after = call(subscriptions, "GET", f"/v1/subscriptions/{sid}")
    for answer in (listed, one, after):
        assert "whsec_" not in str(answer)
    output = capsys.readouterr()
    for shown in (secret, rotated["secret"]):
        assert shown.removeprefix("whsec_") not in output.out + output.err
    stored = runtime.subscriptions().get(sid)
    assert stored is not None
    assert "whsec_" not in repr(stored)


def test_rotation_keeps_the_previous_secret_for_24_hours(subscriptions: Any) -> None:
    created = create(subscriptions)
    sid, first = created["id"], created["secret"]
    code, rotated = call(subscriptions, "POST", f"/v1/subscriptions/{sid}/rotate-secret")
    assert code == 200
    second = rotated["secret"]
    assert second.startswith("whsec_")
    assert second != first
    stored = runtime.subscriptions().get(sid)
    assert stored is not None
    now = datetime.now(UTC)
    assert stored.signing_secrets(now) == [second, first]
    assert stored.signing_secrets(now + timedelta(hours=23)) == [second, first]
    assert stored.signing_secrets(now + timedelta(hours=24, minutes=1)) == [second]
    # A second rotation keeps only the one it replaces.
    _, third = call(subscriptions, "POST", f"/v1/subscriptions/{sid}/rotate-secret")
    stored = runtime.subscriptions().get(sid)
    assert stored is not None
    assert stored.signing_secrets(now) == [third["secret"], second]
    code, answer = call(subscriptions, "POST", "/v1/subscriptions/nope/rotate-secret")
    assert (code, answer["error"]["code"]) == (404, "SubscriptionNotFound")


def test_deliveries_newest_first(subscriptions: Any) -> None:
    sid = create(subscriptions)["id"]
    store = runtime.subscriptions()
    start = datetime.now(UTC) - timedelta(minutes=10)
    attempts = [
        DeliveryAttempt(sid, "msg_1", "wunderkind", "m-1", 2, 1, 503, None, start, "retrying"),
        DeliveryAttempt(
            sid, "msg_1", "wunderkind", "m-1", 2, 2, None, "timeout", start + timedelta(minutes=1), "retrying"
        ),
        DeliveryAttempt(sid, "msg_1", "wunderkind", "m-1", 2, 3, 200, None, start + timedelta(minutes=3), "delivered"),
        DeliveryAttempt(sid, "msg_2", "comapi", "m-2", 5, 1, 204, None, start + timedelta(minutes=5), "delivered"),
    ]
    for attempt in attempts:
        store.record_delivery(attempt)
    code, answer = call(subscriptions, "GET", f"/v1/subscriptions/{sid}/deliveries")
    assert code == 200
    deliveries = answer["deliveries"]
    assert [(d["webhookId"], d["attempt"]) for d in deliveries] == [
        ("msg_2", 1),
        ("msg_1", 3),
        ("msg_1", 2),
        ("msg_1", 1),
    ]
    assert deliveries[2] == {
        "webhookId": "msg_1",
        "provider": "wunderkind",
        "messageId": "m-1",
        "sequence": 2,
        "attempt": 2,
        "statusCode": None,
        "error": "timeout",
        "at": deliveries[2]["at"],
        "outcome": "retrying",
    }
    assert store.deliveries(sid) == list(reversed(attempts))
    assert store.deliveries(sid, limit=2) == [attempts[3], attempts[2]]
    _, limited = call(subscriptions, "GET", f"/v1/subscriptions/{sid}/deliveries", limit="1")
    assert [d["webhookId"] for d in limited["deliveries"]] == ["msg_2"]
    # Delivery records carry a 30-day TTL and nothing that puts them in the message indexes.
    for item in subscription_items():
        assert not {"dueShard", "reference", "nextPollAt"} & set(item)
        assert item["sk"]["S"] != "STATUS"
        if item["pk"]["S"].startswith("DELIVERIES#"):
            expires = int(item["expiresAt"]["N"])
            at = datetime.fromisoformat(item["at"]["S"].replace("Z", "+00:00"))
            assert expires == int((at + timedelta(days=30)).timestamp())
    code, answer = call(subscriptions, "GET", "/v1/subscriptions/nope/deliveries")
    assert (code, answer["error"]["code"]) == (404, "SubscriptionNotFound")


def test_disable_stops_a_subscription_with_a_reason(subscriptions: Any) -> None:
    sid = create(subscriptions)["id"]
    runtime.subscriptions().disable(sid, "the endpoint kept failing for 24 hours")
    runtime.subscriptions().disable("gone", "nothing to disable")
    _, one = call(subscriptions, "GET", f"/v1/subscriptions/{sid}")
    assert (one["enabled"], one["disabledReason"]) == (False, "the endpoint kept failing for 24 hours")
    assert runtime.subscriptions().get("gone") is None


@pytest.mark.parametrize(
    "filter_",
    [
        {"providers": ["twilio"]},
        {"statuses": ["read"]},
        {"statuses": ["DELIVERED"]},
        {"finalOnly": "yes"},
        {"providers": "wunderkind"},
        {"other": True},
    ],
)
def test_an_unknown_provider_or_status_in_the_filter_is_422(subscriptions: Any, filter_: dict[str, Any]) -> None:
    code, answer = call(subscriptions, "POST", "/v1/subscriptions", {"url": PUBLIC_URL, "filter": filter_})
    assert code == 422, answer
    assert answer["error"]["code"] == "ValidationError"
    assert subscription_items() == []


@pytest.mark.parametrize("url", REFUSED_TARGETS)
def test_a_refused_target_is_422_and_nothing_is_stored(subscriptions: Any, url: str) -> None:
    code, answer = call(subscriptions, "POST", "/v1/subscriptions", {"url": url})
    assert code == 422, answer
    assert (answer["error"]["code"], answer["error"]["target"]) == ("TargetRefused", "url")
    assert subscription_items() == []


def test_the_refused_corpus_is_large_enough() -> None:
    assert len(REFUSED_TARGETS) >= 20


def test_loopback_is_accepted_only_when_allowed(subscriptions: Any, env: pytest.MonkeyPatch) -> None:
    env.setenv("WEBHOOKS_ALLOW_LOOPBACK", "true")
    runtime.reset()
    for url in ("http://127.0.0.1:9000/", "http://localhost:9000/hook", "http://[::1]:9000/"):
        code, answer = call(subscriptions, "POST", "/v1/subscriptions", {"url": url})
        assert code == 201, (url, answer)
    # Loopback only: the rest of the private space stays refused.
    code, answer = call(subscriptions, "POST", "/v1/subscriptions", {"url": "http://10.0.0.1/"})
    assert (code, answer["error"]["code"]) == (422, "TargetRefused")


def test_check_target_resolves_names_and_refuses_any_private_answer() -> None:
    check_target("https://hooks.example.com/x", False, resolve=lambda host: ["93.184.216.34"])
    check_target("https://hooks.example.com/x", False, resolve=lambda host: ["2606:2800:220:1:248:1893:25c8:1946"])
    for answer in (["10.0.0.7"], ["93.184.216.34", "169.254.169.254"], ["::ffff:10.0.0.1"], []):
        with pytest.raises(InvalidRequestError) as refused:
            check_target("https://hooks.example.com/x", False, resolve=lambda host, a=answer: a)  # type: ignore[misc]
        assert refused.value.target == "url"

    def fails(host: str) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(InvalidRequestError):
        check_target("https://hooks.example.com/x", False, resolve=fails)


def test_store_round_trip(aws: None) -> None:
    store = SubscriptionStore(runtime.dynamodb(), "textstatus-test")
    subscription, secret = store.create("https://93.184.216.34/", "d", SubscriptionFilter(("comapi",), ("sent",), True))
    assert store.get(subscription.id) == subscription
    assert store.list() == [subscription]
    assert subscription.signing_secrets(datetime.now(UTC)) == [secret]
    assert store.rotate_secret("missing", datetime.now(UTC)) is None
    assert store.delete(subscription.id) is True
    assert store.delete(subscription.id) is False


def test_filter_matches() -> None:
    any_change = SubscriptionFilter()
    assert any_change.matches("usajobs", "sent", False)
    narrow = SubscriptionFilter(providers=("comapi",), statuses=("delivered", "failed"), final_only=True)
    assert narrow.matches("comapi", "delivered", True)
    assert not narrow.matches("wunderkind", "delivered", True)
    assert not narrow.matches("comapi", "sent", False)
    assert not SubscriptionFilter(final_only=True).matches("comapi", "sent", False)


@pytest.mark.parametrize(
    "body",
    [[{"url": PUBLIC_URL}], [{"url": PUBLIC_URL}, {"url": "https://10.0.0.1/"}], "https://93.184.216.34/", 7],
    ids=["array-of-one", "array-of-two", "string", "number"],
)
def test_a_body_that_is_not_a_json_object_is_422_and_nothing_is_stored(subscriptions: Any, body: Any) -> None:
    code, answer = call(subscriptions, "POST", "/v1/subscriptions", body)
    assert (code, answer["error"]["code"]) == (422, "ValidationError")
    assert subscription_items() == []


def test_a_description_with_control_characters_is_422(subscriptions: Any) -> None:
    code, answer = call(subscriptions, "POST", "/v1/subscriptions", {"url": PUBLIC_URL, "description": "a\u0000b"})
    assert code == 422, answer
    assert subscription_items() == []


def test_a_deleted_subscriptions_deliveries_stay_readable_while_kept(subscriptions: Any) -> None:
    created = create(subscriptions)
    store = runtime.subscriptions()
    store.record_delivery(
        DeliveryAttempt(created["id"], "msg_1", "wunderkind", "m-1", 1, 1, 200, None, datetime.now(UTC), "delivered")
    )
    assert call(subscriptions, "DELETE", f"/v1/subscriptions/{created['id']}")[0] == 204
    code, answer = call(subscriptions, "GET", f"/v1/subscriptions/{created['id']}/deliveries")
    assert code == 200
    assert [d["webhookId"] for d in answer["deliveries"]] == ["msg_1"]
    assert call(subscriptions, "GET", "/v1/subscriptions/never-was/deliveries")[0] == 404
