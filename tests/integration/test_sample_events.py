"""Every sample event in events/ is a real event its function handles as documented."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.gateway import LambdaContext
from local.template import ROOT, api_routes

EVENTS = ROOT / "events"
# What each sample must answer on an empty table, with the provider unreachable (so a lookup
# of an unknown message is 503: asking the provider failed) and the local stack's callback
# credentials.
EXPECTED_STATUS = {
    "status_api/get_status.json": 503,
    "status_api/get_status_refresh.json": 503,
    "status_api/get_events.json": 404,
    "status_api/get_recipients_failed.json": 503,  # read from TMS, unreachable here
    "status_api/register.json": 201,
    "status_api/register_send_response_wunderkind.json": 201,
    "status_api/list_by_reference.json": 200,
    "status_api/get_outcomes_report.json": 200,
    "callbacks/wunderkind_delivered_post.json": 200,
    "callbacks/wunderkind_failed_put.json": 200,
    "callbacks/wunderkind_bad_credentials.json": 401,
    "status_api/register_send_response_comapi.json": 201,
    "status_api/register_send_response_comapi_batch.json": 201,
    "status_api/register_send_response_govdelivery.json": 201,
    "status_api/register_send_response_usajobs.json": 201,
    "callbacks/comapi_delivered.json": 200,
    "callbacks/govdelivery_sent_form.json": 503,  # confirming at TMS fails: TMS is unreachable here
    "callbacks/usajobs_not_supported.json": 404,
    "subscriptions/create_subscription.json": 201,
    "subscriptions/list_subscriptions.json": 200,
}


def module_for(event: dict[str, Any]) -> Any:
    import importlib

    route = next(r for r in api_routes() if r.method == event["httpMethod"] and r.path == event["resource"])
    return importlib.import_module(route.module)


def test_every_api_sample_has_an_expectation() -> None:
    samples = {str(path.relative_to(EVENTS)) for path in EVENTS.glob("*/*.json")} - {"poller/schedule.json"}
    assert samples == set(EXPECTED_STATUS)


@pytest.mark.parametrize("name", sorted(EXPECTED_STATUS))
def test_an_api_sample_gets_its_documented_answer(aws: None, env: pytest.MonkeyPatch, name: str) -> None:
    from local.stack import LOCAL_DEFAULTS

    for setting in (
        "WUNDERKIND_CALLBACK_ID",
        "WUNDERKIND_CALLBACK_SECRET",
        "COMAPI_WEBHOOK_SECRET",
        "GOVDELIVERY_CALLBACK_TOKEN",
    ):
        env.setenv(setting, LOCAL_DEFAULTS[setting])
    event = json.loads((EVENTS / name).read_text())
    result = module_for(event).lambda_handler(event, LambdaContext("sample", 10))
    assert result["statusCode"] == EXPECTED_STATUS[name], result["body"]
    body = json.loads(result["body"])
    if result["statusCode"] >= 400:
        assert set(body["error"]) == {"code", "message", "target", "details"}


def test_the_schedule_sample_runs_the_poller(aws: None) -> None:
    from functions.poller import app

    event = json.loads(Path(EVENTS / "poller" / "schedule.json").read_text())
    assert app.lambda_handler(event, LambdaContext("poller", 50))["due"] == 0
