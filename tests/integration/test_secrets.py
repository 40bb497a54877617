"""No configured secret, token or API key ever reaches a log line or a response body."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from local.gateway import LambdaContext
from local.simulators.base import Fault
from local.simulators.govdelivery import GovdeliverySimulator
from local.simulators.wunderkind import WunderkindSimulator
from local.stack import scheduled_event
from tests.conftest import TEST_ENV
from tests.support.api import comapi_post, govdelivery_post, wunderkind_post
from tests.support.aws import api_event, invoke
from tests.support.payloads import WUNDERKIND_CALLBACK_HEADERS, comapi_envelope

SECRET_NAMES = [
    "USAJOBS_API_KEY",
    "COMAPI_TOKEN",
    "COMAPI_WEBHOOK_SECRET",
    "GOVDELIVERY_TOKEN",
    "GOVDELIVERY_CALLBACK_TOKEN",
    "WUNDERKIND_CLIENT_ID",
    "WUNDERKIND_CLIENT_SECRET",
    "WUNDERKIND_CALLBACK_ID",
    "WUNDERKIND_CALLBACK_SECRET",
]
API_KEY = "test-key"  # what tests.support puts in requestContext.identity.apiKey


def test_a_full_run_never_logs_or_returns_a_secret(
    aws: None,
    wunderkind_sim: WunderkindSimulator,
    govdelivery_sim: GovdeliverySimulator,
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    env.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    env.setenv("POLL_INITIAL_DELAY_SECONDS", "1")
    env.setenv("POLL_MAX_BACKOFF_SECONDS", "1")
    caplog.set_level(logging.DEBUG)
    from functions.callbacks import app as callbacks
    from functions.poller import app as poller
    from functions.status_api import app as status_api

    bodies: list[Any] = []
    wk_headers = WUNDERKIND_CALLBACK_HEADERS
    sending = wunderkind_sim.add_message([("SENDING", 0.0)], silent=True)
    # registration, lookups, history, listing
    for body in ({"provider": "wunderkind", "messageId": sending.message_id, "reference": "r1"}, {"provider": "acme"}):
        bodies.append(invoke(status_api, api_event("POST", "/v1/messages", body=body))[2])
    bodies.append(
        invoke(
            status_api, api_event("GET", f"/v1/messages/wunderkind/{sending.message_id}", query={"refresh": "true"})
        )[2]
    )
    bodies.append(invoke(status_api, api_event("GET", f"/v1/messages/wunderkind/{sending.message_id}/events"))[2])
    bodies.append(invoke(status_api, api_event("GET", "/v1/messages", query={"reference": "r1"}))[2])
    # callbacks: good, wrong, unknown word, each provider
    for headers in (wk_headers, {**wk_headers, "X-Client-Secret": "guess"}):
        callback = {"messageID": sending.message_id, "status": "QUEUED_AT_CARRIER"}
        bodies.append(wunderkind_post(callbacks, callback, headers=headers)[1])
    bodies.append(comapi_post(callbacks, comapi_envelope())[1])
    bodies.append(comapi_post(callbacks, comapi_envelope(), secret="forged")[1])
    tms = govdelivery_sim.add_sms(["+15555550000"], silent=True)
    fields = {"status": "sent", "message_url": f"{govdelivery_sim.url}/messages/sms/{tms.message_id}"}
    for token in (TEST_ENV["GOVDELIVERY_CALLBACK_TOKEN"], "guess"):
        bodies.append(govdelivery_post(callbacks, fields, token=token)[1])
    # provider errors: credentials refused, outage; then a poll run
    wunderkind_sim.set_fault(Fault(status=401, remaining=1))
    bodies.append(invoke(status_api, api_event("GET", "/v1/messages/wunderkind/never-seen-2"))[2])
    wunderkind_sim.set_fault(Fault(status=500, remaining=1))
    bodies.append(invoke(status_api, api_event("GET", "/v1/messages/wunderkind/never-seen-3"))[2])
    import time

    time.sleep(1.1)
    bodies.append(poller.lambda_handler(scheduled_event("PollerFunctionSchedule"), LambdaContext("poller", 50)))

    output = capsys.readouterr()
    captured = output.out + output.err + caplog.text + json.dumps(bodies)
    assert "unknown provider status kept" in captured  # the run did log, at every level
    for name in SECRET_NAMES:
        assert TEST_ENV[name] not in captured, f"{name} leaked"
    assert API_KEY not in output.out + output.err + caplog.text
