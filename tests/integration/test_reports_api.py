"""GET /v1/reports/outcomes through the status API function on moto: the answer's shape and
numbers, and every way of asking wrongly refused in the error shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.api import get, register, wunderkind_post
from tests.support.aws import table_items
from tests.support.payloads import wunderkind_callback
from textstatus.clock import iso

ROUTE = "/v1/reports/outcomes"


def report(status_api: Any, **query: str) -> tuple[int, Any]:
    code, _, body = get(status_api, ROUTE, **query)
    return code, body


def test_the_report_answers_its_documented_fields(status_api: Any, callbacks: Any) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    for message_id in ("wk-delivered", "wk-failed", "wk-sending"):
        assert register(status_api, {"provider": "wunderkind", "messageId": message_id})[0] == 201
    assert wunderkind_post(callbacks, wunderkind_callback("DELIVERED", "wk-delivered"))[0] == 200
    assert wunderkind_post(callbacks, wunderkind_callback("FAILED_TO_SEND", "wk-failed"))[0] == 200
    assert wunderkind_post(callbacks, wunderkind_callback("SENDING", "wk-sending"))[0] == 200
    end = datetime.now(UTC) + timedelta(seconds=1)

    code, body = report(status_api, provider="wunderkind", **{"from": start.isoformat(), "to": end.isoformat()})

    assert code == 200, body
    assert set(body) == {
        "provider",
        "from",
        "to",
        "coveredTo",
        "complete",
        "generatedAt",
        "messages",
        "statuses",
        "reasons",
        "deliveredShare",
        "timeToFinal",
        "pending",
        "oldestPending",
    }
    assert (body["provider"], body["from"], body["to"]) == ("wunderkind", iso(start), iso(end))
    assert (body["coveredTo"], body["complete"], body["messages"]) == (iso(end), True, 3)
    assert {status: n for status, n in body["statuses"].items() if n} == {"sending": 1, "failed": 1, "delivered": 1}
    assert len(body["statuses"]) == 10
    assert body["reasons"] == [
        {"status": "sending", "reason": None, "count": 1},
        {"status": "failed", "reason": "provider_error", "count": 1},
        {"status": "delivered", "reason": None, "count": 1},
    ]
    assert body["deliveredShare"] == 1 / 3
    assert body["timeToFinal"]["messages"] == 2
    assert 0 <= body["timeToFinal"]["medianSeconds"] <= body["timeToFinal"]["p95Seconds"] < 60
    assert body["pending"] == 1
    (pending,) = body["oldestPending"]
    assert (pending["messageId"], pending["status"]) == ("wk-sending", "sending")


def test_an_offset_is_taken_as_given_and_the_answer_is_in_utc(status_api: Any) -> None:
    code, body = report(
        status_api, provider="comapi", **{"from": "2026-11-01T10:00:00+05:30", "to": "2026-11-01T10:00:00.5-01:00"}
    )
    assert code == 200, body
    assert (body["from"], body["to"]) == ("2026-11-01T04:30:00.000000Z", "2026-11-01T11:00:00.500000Z")
    assert (body["messages"], body["deliveredShare"], body["timeToFinal"]["medianSeconds"]) == (0, None, None)


def test_a_window_of_exactly_31_days_is_allowed(status_api: Any) -> None:
    window = {"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    code, body = report(status_api, provider="usajobs", **window)
    assert (code, body["complete"]) == (200, True)


@pytest.mark.parametrize(
    ("query", "status", "code", "target"),
    [
        # Not a time at all, or not in the documented form: the query's schema (422).
        ({"from": "yesterday"}, 422, "ValidationError", None),
        ({"from": "2026-11-01T00:00:00"}, 422, "ValidationError", None),  # no offset
        ({"from": "2026-11-01"}, 422, "ValidationError", None),
        ({"from": "26-11-01T00:00:00Z"}, 422, "ValidationError", None),  # two-digit year
        ({"from": "12026-11-01T00:00:00Z"}, 422, "ValidationError", None),
        ({"from": "2026-11-01 00:00:00Z"}, 422, "ValidationError", None),
        ({"from": "2026-11-01T00:00:00+0100"}, 422, "ValidationError", None),
        ({"from": "1700000000"}, 422, "ValidationError", None),
        ({"from": "2026-11-01T00:00:00Z\n"}, 422, "ValidationError", None),
        # Offsets of hours or minutes that do not exist, digits of another script.
        ({"from": "2026-11-01T00:00:00+25:00"}, 422, "ValidationError", None),
        ({"from": "2026-11-01T00:00:00+05:60"}, 422, "ValidationError", None),
        ({"from": "2026-11-01T00:00:00+15:00"}, 422, "ValidationError", None),
        ({"from": "\u0662\u0660\u0662\u0666-11-01T00:00:00Z"}, 422, "ValidationError", None),
        ({"provider": "Wunderkind"}, 422, "ValidationError", None),
        ({"to": None}, 422, "ValidationError", None),
        ({"provider": None}, 422, "ValidationError", None),
        # In form, but not a time, or not a window (400, naming the bound).
        ({"from": "2026-02-30T00:00:00Z"}, 400, "BadRequest", "from"),
        ({"from": "2026-11-01T24:00:00Z"}, 400, "BadRequest", "from"),
        ({"to": "2026-11-01T00:00:60Z"}, 400, "BadRequest", "to"),
        ({"from": "0001-01-01T00:00:00+01:00"}, 400, "BadRequest", "from"),
        ({"to": "9999-12-31T23:59:59-01:00"}, 400, "BadRequest", "to"),
        ({"to": "2026-11-01T00:00:00Z"}, 400, "BadRequest", "to"),  # to == from
        ({"to": "2026-10-31T00:00:00Z"}, 400, "BadRequest", "to"),  # to before from
        ({"to": "2026-12-02T00:00:00.000001Z"}, 400, "BadRequest", "to"),  # 31 days and a microsecond
        # Not a provider this service knows, or a question it does not take.
        ({"provider": "acme"}, 404, "ProviderNotFound", "provider"),
        ({"limit": "10"}, 400, "BadRequest", "query"),
    ],
)
def test_a_bad_question_is_refused_in_the_error_shape_and_stores_nothing(
    status_api: Any, query: dict[str, str | None], status: int, code: str, target: str | None
) -> None:
    asked = {"provider": "wunderkind", "from": "2026-11-01T00:00:00Z", "to": "2026-11-08T00:00:00Z", **query}
    before = table_items()
    answer_code, body = report(status_api, **{name: value for name, value in asked.items() if value is not None})
    assert answer_code == status, body
    assert set(body["error"]) == {"code", "message", "target", "details"}
    assert body["error"]["code"] == code
    if target is not None:
        assert body["error"]["target"] == target
    assert table_items() == before


def test_an_error_names_at_most_ten_of_the_parameters_it_refuses(status_api: Any) -> None:
    """The caller decides how many unknown parameters there are, not how long the answer is."""
    unknown = {f"x{number}": "1" for number in range(3000)}
    code, body = report(
        status_api, provider="wunderkind", **{"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"}, **unknown
    )
    assert (code, body["error"]["target"]) == (400, "query")
    assert body["error"]["message"].endswith("and 2990 more")
    assert len(body["error"]["message"]) < 300
