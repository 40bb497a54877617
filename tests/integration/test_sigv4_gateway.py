"""ClientAuth=AWS_IAM on the local gateway: client routes need a SigV4 signature (service
execute-api) by the local credentials, checked with botocore's own signer; callbacks need none."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support.aws import local_api

FORBIDDEN = (403, "Forbidden", "Authorization")


def signed(method: str, url: str, key: str, secret: str, body: bytes = b"") -> dict[str, str]:
    """The headers botocore's SigV4Auth adds, as a client would send them."""
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key, secret), "execute-api", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def refusal(response: requests.Response) -> tuple[int, str, Any]:
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "target", "details"}
    return response.status_code, error["code"], error["target"]


def test_client_routes_need_a_valid_sigv4_signature(env: pytest.MonkeyPatch) -> None:
    env.setenv("LOCAL_CLIENT_AUTH", "AWS_IAM")
    key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    with local_api(env, "unused-key", containers=1) as base:
        url = f"{base}/v1/messages?reference=order-1"

        ok = requests.get(url, headers=signed("GET", url, key, secret), timeout=10)
        assert ok.status_code == 200, ok.text

        body = b'{"provider": "usajobs", "messageId": "m-1"}'
        post = requests.post(
            f"{base}/v1/messages",
            data=body,
            headers=signed("POST", f"{base}/v1/messages", key, secret, body),
            timeout=10,
        )
        assert post.status_code != 403, post.text

        # No signature at all is API Gateway's MISSING_AUTHENTICATION_TOKEN, answered as deployed;
        # the API key is no credential in this mode.
        unsigned = (404, "RouteNotFound", None)
        assert refusal(requests.get(url, timeout=10)) == unsigned
        assert refusal(requests.get(url, headers={"x-api-key": "unused-key"}, timeout=10)) == unsigned
        tampered_url = f"{base}/v1/messages?reference=order-2"
        assert refusal(requests.get(tampered_url, headers=signed("GET", url, key, secret), timeout=10)) == FORBIDDEN
        tampered_body = requests.post(
            f"{base}/v1/messages",
            data=body.replace(b"m-1", b"m-2"),
            headers=signed("POST", f"{base}/v1/messages", key, secret, body),
            timeout=10,
        )
        assert refusal(tampered_body) == FORBIDDEN
        other = signed("GET", url, "AKIAOTHERCALLER00000", "another-secret")
        assert refusal(requests.get(url, headers=other, timeout=10)) == FORBIDDEN
        wrong_secret = signed("GET", url, key, "not-the-secret")
        assert refusal(requests.get(url, headers=wrong_secret, timeout=10)) == FORBIDDEN

        # Signed now, checked by a gateway whose clock is 6 minutes ahead: older than API Gateway allows.
        stale = signed("GET", url, key, secret)

        class Later(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> Any:
                return datetime.now(tz) + timedelta(minutes=6)

        with mock.patch("local.gateway.datetime", Later):
            assert refusal(requests.get(url, headers=stale, timeout=10)) == FORBIDDEN
        assert requests.get(url, headers=stale, timeout=10).status_code == 200

        # Callbacks keep their per-provider authentication: no signature asked for.
        callback = requests.post(f"{base}/v1/callbacks/wunderkind", data=b"{}", timeout=10)
        assert callback.status_code != 403 or callback.json()["error"]["target"] != "Authorization"
