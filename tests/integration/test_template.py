"""What the SAM transform makes of template.yaml, for every template variant: the template that is
really deployed. samtranslator is what CloudFormation applies for AWS::Serverless-2016-10-31, so a
template it refuses fails here, not in `sam deploy`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local import sam
from local.template import TEMPLATE, api_routes, gateway_responses

ERROR_SHAPE_KEYS = {"code", "message", "target", "details"}


@pytest.fixture(scope="module", params=sorted(sam.VARIANTS))
def transformed(request: pytest.FixtureRequest) -> dict[str, Any]:
    return sam.transform(sam.VARIANTS[request.param])


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in template["Resources"].items() if body["Type"] == kind}


def _api_body(template: dict[str, Any]) -> dict[str, Any]:
    (api,) = _of_type(template, "AWS::ApiGateway::RestApi").values()
    body: dict[str, Any] = api["Properties"]["Body"]
    return body


def test_the_transform_accepts_every_variant(transformed: dict[str, Any]) -> None:
    kinds = {body["Type"] for body in transformed["Resources"].values()}
    assert not any(kind.startswith("AWS::Serverless::") for kind in kinds)
    assert {"AWS::Lambda::Function", "AWS::IAM::Role", "AWS::ApiGateway::RestApi", "AWS::ApiGateway::ApiKey"} <= kinds


def test_status_routes_need_the_api_key_and_callbacks_do_not(transformed: dict[str, Any]) -> None:
    paths = _api_body(transformed)["paths"]
    security_schemes = _api_body(transformed)["securityDefinitions"]
    assert security_schemes["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    routes = api_routes()
    assert routes
    for route in routes:
        method = paths[route.path][route.method.lower()]
        needs_key = {"api_key": []} in method.get("security", [])
        assert needs_key is route.api_key_required, f"{route.method} {route.path}"
        client_route = route.path.startswith(("/v1/messages", "/v1/subscriptions"))
        assert needs_key is client_route, f"{route.method} {route.path}"
    # Nothing the template does not route.
    assert {(path, verb.upper()) for path, verbs in paths.items() for verb in verbs} == {
        (route.path, route.method) for route in routes
    }


def test_the_usage_plan_covers_the_api_key(transformed: dict[str, Any]) -> None:
    (plan_key,) = _of_type(transformed, "AWS::ApiGateway::UsagePlanKey").values()
    assert plan_key["Properties"]["KeyId"] == {"Ref": "ApiApiKey"}
    assert plan_key["Properties"]["KeyType"] == "API_KEY"


def test_a_route_without_the_key_needs_the_api_to_declare_the_key(tmp_path: Any) -> None:
    """The mistake that once made `sam deploy` fail: the API not declaring ApiKeyRequired while a
    route sets it false. The transform refuses it; so does this check."""
    text = TEMPLATE.read_text()
    marker = "        ApiKeyRequired: true\n        UsagePlan:"
    assert marker in text
    broken = text.replace(marker, "        ApiKeyRequired: false\n        UsagePlan:")
    with pytest.raises(sam.TransformError, match=r"Unable to set ApiKeyRequired \[False\]"):
        sam.transform(template_text=broken)


def test_the_scheduled_poller_is_never_retried(transformed: dict[str, Any]) -> None:
    configs = _of_type(transformed, "AWS::Lambda::EventInvokeConfig")
    (poller,) = [c for c in configs.values() if c["Properties"]["FunctionName"] == {"Ref": "PollerFunction"}]
    assert poller["Properties"]["MaximumRetryAttempts"] == 0


# What API Gateway answers itself: (response type, status or None to keep API Gateway's, code, target).
GATEWAY_ANSWERS = [
    ("MISSING_AUTHENTICATION_TOKEN", "404", "RouteNotFound", None),
    ("INVALID_API_KEY", "403", "Forbidden", "x-api-key"),
    ("THROTTLED", "429", "TooManyRequests", None),
    ("QUOTA_EXCEEDED", "429", "QuotaExceeded", None),
    ("REQUEST_TOO_LARGE", "413", "PayloadTooLarge", None),
    ("INTEGRATION_TIMEOUT", "504", "GatewayTimeout", None),
    ("INTEGRATION_FAILURE", "502", "BadGateway", None),
    ("DEFAULT_4XX", None, "BadRequest", None),
    ("DEFAULT_5XX", None, "ServiceUnavailable", None),
]


def _render(template: str, message: str) -> Any:
    """What API Gateway substitutes: $context.error.messageString is the message as a JSON string."""
    return json.loads(template.replace("$context.error.messageString", json.dumps(message)))


def test_every_gateway_answer_has_the_one_error_shape(transformed: dict[str, Any]) -> None:
    responses = _api_body(transformed)["x-amazon-apigateway-gateway-responses"]
    assert set(responses) == {answer[0] for answer in GATEWAY_ANSWERS}
    for response_type, status, code, target in GATEWAY_ANSWERS:
        response = responses[response_type]
        assert response.get("statusCode") == status, response_type
        assert response["responseParameters"] == {"gatewayresponse.header.Content-Type": "'application/json'"}
        (template,) = response["responseTemplates"].values()
        hostile = 'a "quoted" \\ message\nwith a newline'
        body = _render(template, hostile)
        assert set(body) == {"error"}
        assert set(body["error"]) == ERROR_SHAPE_KEYS, response_type
        assert body["error"]["code"] == code
        assert body["error"]["target"] == target
        assert body["error"]["details"] == []
        if "$context.error.messageString" in template:
            assert body["error"]["message"] == hostile


def test_the_local_gateway_reads_the_same_answers() -> None:
    local = gateway_responses()
    for response_type, status, code, _target in GATEWAY_ANSWERS:
        answer = local[response_type]
        assert answer.status_code == (int(status) if status else None)
        assert answer.headers == {"Content-Type": "application/json"}
        assert json.loads(answer.body("x"))["error"]["code"] == code


def test_refused_aws_requests_raise_an_alarm(transformed: dict[str, Any]) -> None:
    alarms = _of_type(transformed, "AWS::CloudWatch::Alarm")
    (refused,) = [a["Properties"] for a in alarms.values() if a["Properties"].get("MetricName") == "AwsRequestRefused"]
    assert refused["Namespace"] == "TextStatus"
    assert refused["Dimensions"] == [{"Name": "service", "Value": "textstatus"}]
    assert refused["Threshold"] == 1
    assert refused["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_alarms_notify_the_topic_only_when_one_is_given(transformed: dict[str, Any]) -> None:
    assert transformed["Conditions"]["HasAlarmTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}
    for name, alarm in _of_type(transformed, "AWS::CloudWatch::Alarm").items():
        for key in ("AlarmActions", "OKActions"):
            assert alarm["Properties"][key] == {
                "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
            }, name


def test_the_local_gateway_answers_as_api_gateway_would(env: pytest.MonkeyPatch) -> None:
    """Unknown route or method, missing or wrong key, a body over 10 MB, a crashing function."""
    import http.client
    from urllib.parse import urlsplit

    import requests

    from functions.status_api import app as status_api
    from tests.support.aws import local_api

    def crash(event: Any, context: Any) -> Any:
        raise RuntimeError("boom")

    env.setattr(status_api, "lambda_handler", crash)  # before the gateway first loads the function
    with local_api(env, "gateway-key", containers=1) as url:

        def error(response: requests.Response) -> tuple[int, str, str, Any]:
            assert response.headers["Content-Type"] == "application/json"
            body = response.json()
            assert set(body["error"]) == ERROR_SHAPE_KEYS
            return response.status_code, body["error"]["code"], body["error"]["message"], body["error"]["target"]

        assert error(requests.get(f"{url}/v2/nothing", timeout=10)) == (404, "RouteNotFound", "no such route", None)
        assert error(requests.delete(f"{url}/v1/messages", timeout=10))[:2] == (404, "RouteNotFound")
        forbidden = (403, "Forbidden", "missing or invalid API key", "x-api-key")
        assert error(requests.get(f"{url}/v1/messages?reference=r", timeout=10)) == forbidden
        wrong = requests.get(f"{url}/v1/messages?reference=r", headers={"x-api-key": "guess"}, timeout=10)
        assert error(wrong) == forbidden
        crashed = requests.get(f"{url}/v1/messages?reference=r", headers={"x-api-key": "gateway-key"}, timeout=10)
        assert error(crashed)[:2] == (502, "BadGateway")

        address = urlsplit(url)
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
        connection.putrequest("POST", "/v1/callbacks/wunderkind")
        connection.putheader("Content-Length", str(10 * 1024 * 1024 + 1))
        connection.endheaders()
        too_large = connection.getresponse()
        assert too_large.status == 413
        assert json.loads(too_large.read())["error"]["code"] == "PayloadTooLarge"
        connection.close()


def test_notifications_stream_functions_queues_bus_alarms_and_outputs(transformed: dict[str, Any]) -> None:
    resources = transformed["Resources"]
    (table,) = _of_type(transformed, "AWS::DynamoDB::Table").values()
    assert table["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    mappings = {
        m["Properties"]["FunctionName"]["Ref"]: m["Properties"]
        for m in _of_type(transformed, "AWS::Lambda::EventSourceMapping").values()
    }
    stream = mappings["NotifierFunction"]
    assert stream["EventSourceArn"] == {"Fn::GetAtt": ["MessagesTable", "StreamArn"]}
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["BisectBatchOnFunctionError"] is True
    assert stream["ParallelizationFactor"] == 1
    assert 0 < stream["MaximumRetryAttempts"] <= 1000
    assert stream["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["NotifierFailureQueue", "Arn"]}
    (pattern,) = [json.loads(f["Pattern"]) for f in stream["FilterCriteria"]["Filters"]]
    assert pattern == {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"sk": {"S": ["STATUS"]}}}}
    queue = mappings["DeliveryFunction"]
    assert queue["EventSourceArn"] == {"Fn::GetAtt": ["DeliveryQueue", "Arn"]}
    assert queue["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert queue["BatchSize"] == 1
    delivery_queue = resources["DeliveryQueue"]["Properties"]
    assert delivery_queue["FifoQueue"] is True
    assert delivery_queue["VisibilityTimeout"] > resources["DeliveryFunction"]["Properties"]["Timeout"]
    assert delivery_queue["MessageRetentionPeriod"] > 24 * 3600 + 3600
    assert delivery_queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["DeliveryDeadLetterQueue", "Arn"]}
    assert resources["DeliveryDeadLetterQueue"]["Properties"]["FifoQueue"] is True
    assert resources["NotificationsBus"]["Type"] == "AWS::Events::EventBus"
    alarms = [a["Properties"] for a in _of_type(transformed, "AWS::CloudWatch::Alarm").values()]
    watched = {(a.get("MetricName"), json.dumps(a.get("Dimensions"), sort_keys=True)) for a in alarms}
    for queue_name in ("DeliveryDeadLetterQueue", "NotifierFailureQueue"):
        dimensions = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_name, "QueueName"]}}]
        assert ("ApproximateNumberOfMessagesVisible", json.dumps(dimensions, sort_keys=True)) in watched
    iterator = [{"Name": "FunctionName", "Value": {"Ref": "NotifierFunction"}}]
    assert ("IteratorAge", json.dumps(iterator, sort_keys=True)) in watched
    assert {"EventBusName", "DeliveryQueueUrl", "DeliveryDeadLetterQueueUrl", "NotifierFailureQueueUrl"} <= set(
        transformed["Outputs"]
    )
