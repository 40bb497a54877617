"""Listing by reference, a page at a time: every message exactly once, in `createdAt` order,
expired items skipped without short pages, and cursors checked strictly on the way back in."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.support.aws import api_event, expire_status, invoke, table_items

REFERENCE = "campaign-250"


def register_batch(status_api: Any, message_ids: list[str], reference: str = REFERENCE) -> None:
    """One Comapi batch send response ([{index, messageId}, ...]) registered with a reference."""
    body = {
        "provider": "comapi",
        "reference": reference,
        "sendResponse": [{"index": n, "messageId": message_id} for n, message_id in enumerate(message_ids)],
    }
    code, _, answer = invoke(status_api, api_event("POST", "/v1/messages", body=body))
    assert code == 201, answer


def listing(status_api: Any, **query: str) -> tuple[int, Any]:
    code, _, body = invoke(status_api, api_event("GET", "/v1/messages", query={"reference": REFERENCE, **query}))
    return code, body


def every_page(status_api: Any, limit: int) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        code, body = listing(status_api, **query)
        assert code == 200, body
        assert set(body) == {"messages", "nextCursor"}
        pages.append(body["messages"])
        cursor = body["nextCursor"]
        if cursor is None:
            return pages
        assert len(pages) <= 300, "the cursor never ends"


@pytest.fixture
def messages(status_api: Any) -> list[str]:
    """250 messages with one reference (three batches, so three creation times), and two of
    another reference; the ids in listing order."""
    ids = [f"m-{n:03d}" for n in range(250)]
    for start in range(0, 250, 100):
        register_batch(status_api, ids[start : start + 100])
    register_batch(status_api, ["other-1", "other-2"], reference="campaign-other")
    return ids


def test_paging_returns_every_message_exactly_once_in_creation_order(status_api: Any, messages: list[str]) -> None:
    code, first = listing(status_api)
    assert (code, len(first["messages"]), first["nextCursor"] is not None) == (200, 100, True)  # the default
    orders = []
    for limit in (100, 7):
        pages = every_page(status_api, limit)
        listed = [m["messageId"] for page in pages for m in page]
        assert sorted(listed) == sorted(messages)
        assert len(listed) == len(set(listed)) == 250
        created = [m["createdAt"] for page in pages for m in page]
        assert created == sorted(created)
        assert all(len(page) == limit for page in pages[:-1])
        assert len(pages) == -(-250 // limit)  # the last page is not followed by an empty one
        assert all(m["reference"] == REFERENCE for page in pages for m in page)
        orders.append(listed)
    assert orders[0] == orders[1]  # pages of any size list the same order


def test_expired_items_are_skipped_without_short_changing_a_page(status_api: Any, messages: list[str]) -> None:
    order = [m["messageId"] for page in every_page(status_api, 100) for m in page]
    # A run longer than a page at the start, one in the middle and the very last message:
    # DynamoDB's Limit counts them before the filter drops them.
    expired = set(order[:20]) | set(order[100:130]) | {order[-1]}
    for message_id in expired:
        expire_status("comapi", message_id)
    live = [message_id for message_id in order if message_id not in expired]
    for limit in (7, 100):
        pages = every_page(status_api, limit)
        assert [m["messageId"] for page in pages for m in page] == live
        assert all(len(page) == limit for page in pages[:-1])
        assert len(pages) == -(-len(live) // limit)


def test_a_reference_with_only_expired_messages_lists_nothing(status_api: Any) -> None:
    register_batch(status_api, ["gone-1", "gone-2"])
    for message_id in ("gone-1", "gone-2"):
        expire_status("comapi", message_id)
    assert listing(status_api) == (200, {"messages": [], "nextCursor": None})


def cursor_of(document: Any) -> str:
    raw = document if isinstance(document, bytes) else json.dumps(document, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decoded(cursor: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return result


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: "not a cursor!",
        lambda c: "@@@@",
        lambda c: c + "=",
        lambda c: c[:-3],
        lambda c: cursor_of(b"\xff\xfe\x00"),
        lambda c: cursor_of(b"[1, 2]"),
        lambda c: cursor_of("just a string"),
        lambda c: cursor_of({**decoded(c), "reference": "campaign-other"}),
        lambda c: cursor_of({**decoded(c), "extra": "1"}),
        lambda c: cursor_of({k: v for k, v in decoded(c).items() if k != "createdAt"}),
        lambda c: cursor_of({**decoded(c), "createdAt": 12}),
        lambda c: cursor_of({**decoded(c), "createdAt": "yesterday"}),
        lambda c: cursor_of({**decoded(c), "messageId": "../../x"}),
        lambda c: cursor_of({**decoded(c), "provider": {"S": "comapi"}}),
        lambda c: cursor_of(dict(reversed(decoded(c).items()))),
        lambda c: cursor_of(json.dumps(decoded(c), indent=1).encode()),
        lambda c: cursor_of(b"[" * 300 + b"]" * 300),
    ],
    ids=[
        "garbage",
        "not-base64url",
        "padded",
        "truncated",
        "not-utf8",
        "json-array",
        "json-string",
        "another-reference",
        "unexpected-key",
        "missing-key",
        "wrong-type",
        "bad-time",
        "bad-message-id",
        "dynamodb-attribute",
        "reordered",
        "reformatted",
        "deeply-nested",
    ],
)
def test_a_bad_cursor_is_a_400_in_the_error_shape(status_api: Any, tamper: Any) -> None:
    register_batch(status_api, [f"c-{n}" for n in range(3)])
    register_batch(status_api, ["other-1"], reference="campaign-other")
    items = table_items()
    code, first = listing(status_api, limit="1")
    assert code == 200
    assert first["nextCursor"]
    code, body = listing(status_api, limit="1", cursor=tamper(first["nextCursor"]))
    assert code == 400, body
    assert body["error"] == {
        "code": "BadRequest",
        "message": body["error"]["message"],
        "target": "cursor",
        "details": [],
    }
    assert table_items() == items


@pytest.mark.parametrize(
    "query",
    [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"cursor": ""}, {"cursor": "a" * 1025}],
    ids=["limit-0", "limit-101", "limit-not-int", "cursor-empty", "cursor-too-long"],
)
def test_limits_outside_the_schema_are_422(status_api: Any, query: dict[str, str]) -> None:
    code, body = listing(status_api, **query)
    assert (code, body["error"]["code"]) == (422, "ValidationError")


def test_a_cursor_from_another_reference_names_the_problem(status_api: Any) -> None:
    register_batch(status_api, ["other-1", "other-2"], reference="campaign-other")
    code, _, other = invoke(
        status_api, api_event("GET", "/v1/messages", query={"reference": "campaign-other", "limit": "1"})
    )
    assert code == 200
    assert other["nextCursor"]
    code, body = listing(status_api, cursor=other["nextCursor"])
    assert (code, body["error"]["target"]) == (400, "cursor")
    assert "another reference" in body["error"]["message"]
