"""A local API Gateway (REST, Lambda proxy) built from template.yaml's Api events.

Each request becomes the event API Gateway would send (headers, multi-value headers, query
strings, path parameters, raw body, request context) for the function the template names,
with the API key enforced where the template requires it. What API Gateway answers itself (no
such route, no key, too large, the function failed) comes from the template's GatewayResponses.
With `policies` (local.iam), each function may call only what its role allows, as on AWS.
"""

from __future__ import annotations

import base64
import hmac
import importlib
import importlib.util
import json
import os
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from local import iam
from local.template import ApiRoute, GatewayResponse, api_routes, functions, gateway_responses, load

if TYPE_CHECKING:
    from local.iam import Policies

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
# API Gateway REST refuses bodies over 10 MB before any function runs.
MAX_BODY_BYTES = 10 * 1024 * 1024
# API Gateway refuses a SigV4 signature whose X-Amz-Date is further than this from its clock.
SIGV4_MAX_SKEW_SECONDS = 5 * 60
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<headers>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


def client_routes(template: dict[str, Any] | None = None) -> set[tuple[str, str]]:
    """(path, METHOD) of the routes the API's OpenAPI body gives a `security` (the client routes:
    the API key or SigV4, per ClientAuth); the others (callbacks) need neither."""
    template = template or load()
    protected = set()
    for body in template["Resources"].values():
        if body["Type"] != "AWS::Serverless::Api":
            continue
        paths = body.get("Properties", {}).get("DefinitionBody", {}).get("paths", {})
        for path, methods in paths.items():
            protected |= {(path, verb.upper()) for verb, method in methods.items() if method.get("security")}
    return protected


def sigv4_valid(
    method: str, target: str, headers: list[tuple[str, str]], body: bytes, access_key: str, secret_key: str
) -> bool:
    """Whether the request carries a SigV4 signature (service execute-api) by these credentials,
    dated within 5 minutes: the signature is recomputed by botocore's own signer over the request
    as received (the headers it says it signed), and compared in constant time."""
    from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    given = {name.lower(): value for name, value in headers}
    match = _AUTHORIZATION.match(given.get("authorization", ""))
    amz_date = given.get("x-amz-date", "")
    if match is None or match["service"] != "execute-api" or not hmac.compare_digest(match["key"], access_key):
        return False
    try:
        signed_at = datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        return False
    if abs((datetime.now(UTC) - signed_at).total_seconds()) > SIGV4_MAX_SKEW_SECONDS or match["date"] != amz_date[:8]:
        return False
    signed_headers = match["headers"].split(";")
    if "host" not in signed_headers or any(name not in given for name in signed_headers):
        return False
    request = AWSRequest(
        method=method,
        url=f"http://{given['host']}{target}",
        data=body,
        headers={name: given[name] for name in signed_headers},
    )
    request.context["timestamp"] = amz_date
    token = given.get("x-amz-security-token") if "x-amz-security-token" in signed_headers else None
    signer = SigV4Auth(Credentials(access_key, secret_key, token), "execute-api", match["region"])
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    return hmac.compare_digest(expected, match["signature"])


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as `context`, with a real remaining-time clock."""

    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"

    def __post_init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = datetime.now(UTC).strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class FunctionHost:
    """Warm execution environments for the template's functions, `containers` per function.

    Like Lambda, each environment handles one invocation at a time and keeps its module state
    (the Powertools resolver holds the current event) between invocations; concurrent requests
    go to different environments. The shared layer's clients are shared between them.
    """

    def __init__(self, containers: int = 4, policies: Policies | None = None) -> None:
        self._containers = max(1, containers)
        self._policies = policies
        if policies is not None:
            iam.install()
        self._idle: dict[str, queue.Queue[Handler]] = {}
        self._guard = threading.Lock()

    def _pool(self, module: str, attribute: str) -> queue.Queue[Handler]:
        with self._guard:
            if module not in self._idle:
                pool: queue.Queue[Handler] = queue.Queue()
                for number in range(self._containers):
                    pool.put(getattr(_load_copy(module, number), attribute))
                self._idle[module] = pool
            return self._idle[module]

    def invoke(self, module: str, attribute: str, function_name: str, timeout: int, event: dict[str, Any]) -> Any:
        pool = self._pool(module, attribute)
        handler = pool.get()
        try:
            # The AWS calls it makes are this function's: checked against its role when policies are given.
            with iam.running(function_name, self._policies):
                return handler(event, LambdaContext(function_name, timeout))
        finally:
            pool.put(handler)


def _load_copy(module: str, number: int) -> ModuleType:
    """A separate instance of a function's module: one per execution environment."""
    if number == 0:
        return importlib.import_module(module)
    spec = importlib.util.find_spec(module)
    origin = spec.origin if spec is not None else None
    copy_spec = importlib.util.spec_from_file_location(f"{module}__env{number}", origin) if origin else None
    if copy_spec is None or copy_spec.loader is None:
        raise ImportError(f"cannot load another copy of {module}")
    copy = importlib.util.module_from_spec(copy_spec)
    copy_spec.loader.exec_module(copy)
    return copy


def proxy_event(
    route: ApiRoute,
    method: str,
    raw_path: str,
    query: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    stage: str = "local",
    source_ip: str = "127.0.0.1",
    api_key: str | None = None,
) -> dict[str, Any]:
    """The REST API proxy event for one request (the shape of API Gateway's `AWS_PROXY`)."""
    match = route.pattern.match(raw_path)
    path_parameters = {name: unquote(value) for name, value in match.groupdict().items()} if match else None
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        multi_query.setdefault(name, []).append(value)
    encoded_body: str | None
    if not body:
        encoded_body, is_base64 = None, False
    else:
        try:
            encoded_body, is_base64 = body.decode("utf-8"), False
        except UnicodeDecodeError:
            encoded_body, is_base64 = base64.b64encode(body).decode("ascii"), True
    now = datetime.now(UTC)
    identity: dict[str, Any] = {"sourceIp": source_ip, "userAgent": multi_headers.get("User-Agent", [None])[-1]}
    if api_key is not None:
        identity.update(apiKey=api_key, apiKeyId="local-api-key")
    return {
        "resource": route.path,
        "path": raw_path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "localapi",
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": method,
            "requestId": str(uuid.uuid4()),
            "extendedRequestId": str(uuid.uuid4()),
            "path": f"/{stage}{raw_path}",
            "stage": stage,
            "protocol": "HTTP/1.1",
            "domainName": "127.0.0.1",
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": identity,
        },
        "body": encoded_body,
        "isBase64Encoded": is_base64,
    }


class LocalGateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        host: str,
        port: int,
        api_key: str,
        routes: list[ApiRoute] | None = None,
        containers: int = 4,
        policies: Policies | None = None,
    ) -> None:
        self.api_key = api_key
        self.routes = routes if routes is not None else api_routes()
        # ClientAuth, as deployed: API_KEY (x-api-key) or AWS_IAM (SigV4 by the local credentials).
        self.client_auth = os.environ.get("LOCAL_CLIENT_AUTH", "API_KEY")
        self.client_routes = client_routes()
        self.responses = gateway_responses()
        self.host_functions = FunctionHost(containers, policies)
        self.extra_routes: dict[tuple[str, str], Callable[[], tuple[int, str, bytes]]] = {}
        super().__init__((host, port), _GatewayHandler)

    def find_route(self, method: str, path: str) -> ApiRoute | None:
        for route in self.routes:
            if route.method in (method, "ANY") and route.pattern.match(path):
                return route
        return None

    def gateway_answer(self, response_type: str, status: int, message: str) -> tuple[int, dict[str, str], bytes]:
        """What API Gateway answers itself: the template's GatewayResponse for the type, else its
        DEFAULT_4XX/DEFAULT_5XX, else API Gateway's built-in {"message": ...}. `status` and `message`
        are API Gateway's own for the situation."""
        fallback = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        response = self.responses.get(response_type) or self.responses.get(fallback)
        if response is None:
            response = GatewayResponse(response_type, None, {"Content-Type": "application/json"}, None)
        return response.status_code or status, dict(response.headers), response.body(message)


class _LocalHandler(BaseHTTPRequestHandler):
    """What the local gateway and the local function URL answer alike: every method goes to
    `_serve` (not the standard library's 501), quiet, HTTP/1.1 with a read timeout."""

    # Seconds a read from the client may wait (a body shorter than its Content-Length).
    timeout = 5
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _serve(self) -> None:
        raise NotImplementedError

    def _read_body(self, limit: int) -> bytes | Literal["unframed", "too large", "incomplete"]:
        """The request's body by its Content-Length, or why it cannot be read: no usable
        Content-Length, more than `limit` bytes, or fewer bytes than declared within `timeout`."""
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not declared.isdigit():
            return "unframed"
        length = int(declared)
        if length > limit:
            return "too large"
        try:
            body = self.rfile.read(length) if length else b""
        except TimeoutError:
            return "incomplete"
        return body if len(body) == length else "incomplete"

    def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def __getattr__(self, name: str) -> Any:
        # Every method reaches the routing (the gateway answers MISSING_AUTHENTICATION_TOKEN for what
        # the API lacks, as API Gateway does).
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)


class _GatewayHandler(_LocalHandler):
    server: LocalGateway

    def _serve(self) -> None:
        url = urlsplit(self.path)
        path = url.path
        body = self._read_body(MAX_BODY_BYTES)
        if not isinstance(body, bytes):
            # What API Gateway answers a request it cannot frame: a 4xx, never a dropped connection;
            # a body shorter than it said is refused once the wait is over.
            answers = {
                "unframed": ("BAD_REQUEST_BODY", 400, "Invalid Content-Length"),
                "too large": ("REQUEST_TOO_LARGE", 413, "Request Too Long"),
                "incomplete": ("BAD_REQUEST_BODY", 400, "Incomplete body"),
            }
            self._reply(*self.server.gateway_answer(*answers[body]))
            self.close_connection = True
            return
        extra = self.server.extra_routes.get((self.command, path))
        if extra is not None:
            status, content_type, payload = extra()
            self._reply(status, {"Content-Type": content_type}, payload)
            return
        route = self.server.find_route(self.command, path)
        if route is None:
            # A method or path the API does not have.
            answer = self.server.gateway_answer("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
            self._reply(*answer)
            return
        given_key = self.headers.get("x-api-key")
        protected = route.api_key_required or (route.path, route.method) in self.server.client_routes
        key_required = protected and self.server.client_auth != "AWS_IAM"
        if protected and self.server.client_auth == "AWS_IAM":
            credentials = os.environ.get("AWS_ACCESS_KEY_ID", ""), os.environ.get("AWS_SECRET_ACCESS_KEY", "")
            if not self.headers.get("Authorization") and not self.headers.get("X-Amz-Security-Token"):
                # No signature at all: API Gateway's MISSING_AUTHENTICATION_TOKEN, as deployed.
                self._reply(
                    *self.server.gateway_answer("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
                )
                return
            if not all(credentials) or not sigv4_valid(
                self.command, self.path, list(self.headers.items()), body, *credentials
            ):
                self._reply(*self.server.gateway_answer("INVALID_SIGNATURE", 403, "Forbidden"))
                return
        elif key_required and given_key != self.server.api_key:
            # Missing or wrong: API Gateway answers INVALID_API_KEY for both.
            self._reply(*self.server.gateway_answer("INVALID_API_KEY", 403, "Forbidden"))
            return
        event = proxy_event(
            route,
            self.command,
            path,
            parse_qsl(url.query, keep_blank_values=True),
            list(self.headers.items()),
            body,
            source_ip=self.client_address[0],
            api_key=given_key if key_required else None,
        )
        try:
            result = self.server.host_functions.invoke(
                route.module, route.handler, route.function, route.timeout_seconds, event
            )
        except Exception:
            # The function failed: API Gateway answers 502 (INTEGRATION_FAILURE).
            self._reply(*self.server.gateway_answer("INTEGRATION_FAILURE", 502, "Internal server error"))
            raise
        if not isinstance(result, dict) or not isinstance(result.get("statusCode", 200), int):
            self._reply(*self.server.gateway_answer("INTEGRATION_FAILURE", 502, "Internal server error"))
            return
        self._reply_lambda(result)

    def _reply_lambda(self, result: dict[str, Any]) -> None:
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
        headers: dict[str, str] = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values)
        self._reply(int(result.get("statusCode", 200)), headers, payload)


# -- the callbacks' Lambda function URL -------------------------------------------------------------

# A function URL refuses requests over 6 MB (Lambda's synchronous payload limit) itself.
FUNCTION_URL_MAX_BODY_BYTES = 6 * 1024 * 1024
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def function_url_event(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    source_ip: str = "127.0.0.1",
    domain: str = "localurl.lambda-url.us-east-1.on.aws",
) -> dict[str, Any]:
    """The event a Lambda function URL sends (payload format 2.0): header names lower-cased and
    repeats joined by commas, the query string raw, a body that is not text base64-encoded."""
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    content_type = joined.get("content-type", "").lower()
    encoded_body: str | None
    if not body:
        encoded_body, is_base64 = None, False
    elif content_type.startswith(_TEXT_TYPES) or content_type.endswith("+json"):
        try:
            encoded_body, is_base64 = body.decode("utf-8"), False
        except UnicodeDecodeError:
            encoded_body, is_base64 = base64.b64encode(body).decode("ascii"), True
    else:
        encoded_body, is_base64 = base64.b64encode(body).decode("ascii"), True
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = datetime.now(UTC)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": joined,
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": domain.split(".")[0],
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent"),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": encoded_body,
        "pathParameters": None,
        "isBase64Encoded": is_base64,
        "stageVariables": None,
    }


class FunctionUrlServer(ThreadingHTTPServer):
    """One function's Lambda function URL (AuthType NONE): every method and path goes to the
    function as a payload 2.0 event; what Lambda answers itself (too large, the function failed)
    is Lambda's own plain answer, not the API's error shape."""

    daemon_threads = True

    def __init__(self, host: str, port: int, function: str, host_functions: FunctionHost) -> None:
        self.function = functions()[function]
        self.host_functions = host_functions
        super().__init__((host, port), _FunctionUrlHandler)


class _FunctionUrlHandler(_LocalHandler):
    server: FunctionUrlServer

    def _serve(self) -> None:
        url = urlsplit(self.path)
        body = self._read_body(FUNCTION_URL_MAX_BODY_BYTES)
        if not isinstance(body, bytes):
            status = 413 if body == "too large" else 400
            self._reply(status, {"Content-Type": "application/json"}, b'{"Message":null}')
            self.close_connection = True
            return
        event = function_url_event(
            self.command, url.path, url.query, list(self.headers.items()), body, source_ip=self.client_address[0]
        )
        definition = self.server.function
        try:
            result = self.server.host_functions.invoke(
                definition.module, definition.handler, definition.logical_id, definition.timeout_seconds, event
            )
        except Exception:
            self._reply(502, {"Content-Type": "application/json"}, b'{"Message":"Internal Server Error"}')
            raise
        if not isinstance(result, dict) or "statusCode" not in result:
            # A function URL answers a result without statusCode as a JSON 200.
            payload = json.dumps(result).encode()
            self._reply(200, {"Content-Type": "application/json"}, payload)
            return
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
        self._reply(int(result["statusCode"]), dict(result.get("headers") or {}), payload)
