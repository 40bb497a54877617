"""What the SAM transform makes of template.yaml, for every template variant: the template that is
really deployed. samtranslator is what CloudFormation applies for AWS::Serverless-2016-10-31, so a
template it refuses fails here, not in `sam deploy`."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from local import sam
from local.template import api_routes, gateway_responses

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
    body = _api_body(sam.deployed(transformed))
    paths = body["paths"]
    assert body["securityDefinitions"]["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    routes = api_routes()
    assert routes
    for route in routes:
        method = paths[route.path][route.method.lower()]
        needs_key = {"api_key": []} in method.get("security", [])
        assert needs_key is route.path.startswith(CLIENT_PREFIXES), f"{route.method} {route.path}"
    # Nothing the template does not route.
    assert {(path, verb.upper()) for path, verbs in paths.items() for verb in verbs} == {
        (route.path, route.method) for route in routes
    }


def test_the_usage_plan_covers_the_api_key(transformed: dict[str, Any]) -> None:
    (plan_key,) = _of_type(transformed, "AWS::ApiGateway::UsagePlanKey").values()
    assert plan_key["Properties"]["KeyId"] == {"Ref": "ApiApiKey"}
    assert plan_key["Properties"]["KeyType"] == "API_KEY"


def test_the_scheduled_poller_is_never_retried(transformed: dict[str, Any]) -> None:
    configs = _of_type(transformed, "AWS::Lambda::EventInvokeConfig")
    (poller,) = [c for c in configs.values() if c["Properties"]["FunctionName"] == {"Ref": "PollerFunction"}]
    assert poller["Properties"]["MaximumRetryAttempts"] == 0


# What API Gateway answers itself: (response type, status or None to keep API Gateway's, code, target).
GATEWAY_ANSWERS = [
    ("MISSING_AUTHENTICATION_TOKEN", "404", "RouteNotFound", None),
    ("INVALID_API_KEY", "403", "Forbidden", "x-api-key"),
    ("INVALID_SIGNATURE", "403", "Forbidden", "Authorization"),
    ("ACCESS_DENIED", "403", "Forbidden", None),
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

        # A request it cannot frame (found by schemathesis): a 400 in the error shape, not a
        # dropped connection or a hang.
        for declared in (":", "1"):
            connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
            connection.putrequest("GET", "/v1/messages?reference=r")
            connection.putheader("Content-Length", declared)
            connection.endheaders()
            unframed = connection.getresponse()
            assert unframed.status == 400, declared
            assert set(json.loads(unframed.read())["error"]) == ERROR_SHAPE_KEYS
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


# What each mode deploys: the translated template with CloudFormation's conditions applied.
MODES = {name: sam.deployed(sam.transform(parameters), parameters) for name, parameters in sam.VARIANTS.items()}
PROVIDER_CALLERS = {"StatusApiFunction", "PollerFunction", "CallbacksFunction"}
IN_VPC = {"static-egress", "own-subnets"}
CLIENT_PREFIXES = ("/v1/messages", "/v1/subscriptions", "/v1/reports")


@pytest.mark.parametrize("mode", sorted(MODES))
def test_only_the_functions_that_call_providers_join_the_vpc(mode: str) -> None:
    deployed = MODES[mode]
    functions = _of_type(deployed, "AWS::Lambda::Function")
    in_vpc = {name for name, body in functions.items() if "VpcConfig" in body["Properties"]}
    assert in_vpc == (PROVIDER_CALLERS if mode in IN_VPC else set())
    assert "NotifierFunction" not in in_vpc
    assert "DeliveryFunction" not in in_vpc
    for name in in_vpc:
        config = functions[name]["Properties"]["VpcConfig"]
        if mode == "static-egress":
            assert config == {
                "SubnetIds": [{"Ref": "EgressPrivateSubnetA"}, {"Ref": "EgressPrivateSubnetB"}],
                "SecurityGroupIds": [{"Ref": "EgressSecurityGroup"}],
            }
        else:
            assert config == {
                "SubnetIds": {"Ref": "EgressSubnetIds"},
                "SecurityGroupIds": {"Ref": "EgressSecurityGroupIds"},
            }
        role = deployed["Resources"][f"{name}Role"]["Properties"]
        assert any(str(arn).endswith("/AWSLambdaVPCAccessExecutionRole") for arn in role["ManagedPolicyArns"])


@pytest.mark.parametrize("mode", sorted(MODES))
def test_the_nat_gateway_and_its_address_exist_only_with_static_egress(mode: str) -> None:
    deployed = MODES[mode]
    created = mode == "static-egress"
    for kind in ("AWS::EC2::VPC", "AWS::EC2::NatGateway", "AWS::EC2::EIP", "AWS::EC2::InternetGateway"):
        assert len(_of_type(deployed, kind)) == (1 if created else 0), kind
    subnets = _of_type(deployed, "AWS::EC2::Subnet")
    assert len(subnets) == (3 if created else 0)
    assert ("EgressIp" in deployed["Outputs"]) is created
    endpoints = _of_type(deployed, "AWS::EC2::VPCEndpoint")
    assert len(endpoints) == (1 if created else 0)
    if created:
        assert deployed["Outputs"]["EgressIp"]["Value"] == {"Ref": "EgressNatIp"}
        (nat,) = _of_type(deployed, "AWS::EC2::NatGateway").values()
        assert nat["Properties"]["AllocationId"] == {"Fn::GetAtt": ["EgressNatIp", "AllocationId"]}
        assert nat["Properties"]["SubnetId"] == {"Ref": "EgressPublicSubnet"}
        (endpoint,) = endpoints.values()
        assert endpoint["Properties"]["VpcEndpointType"] == "Gateway"
        assert endpoint["Properties"]["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}.dynamodb"}
        assert endpoint["Properties"]["RouteTableIds"] == [{"Ref": "EgressPrivateRouteTable"}]
        private = {
            subnets[name]["Properties"]["AvailabilityZone"]["Fn::Select"][0]
            for name in ("EgressPrivateSubnetA", "EgressPrivateSubnetB")
        }
        assert private == {0, 1}  # two AZs
        route = deployed["Resources"]["EgressPrivateDefaultRoute"]["Properties"]
        assert route == {
            "RouteTableId": {"Ref": "EgressPrivateRouteTable"},
            "DestinationCidrBlock": "0.0.0.0/0",
            "NatGatewayId": {"Ref": "EgressNatGateway"},
        }


def _execute_api_matches(pattern: str, method: str, path: str) -> bool:
    """execute-api:Invoke resource matching: `*` matches anything, `/` included."""
    import fnmatch

    return fnmatch.fnmatchcase(f"{method}{path}", pattern)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_client_routes_use_iam_or_the_key_and_callbacks_neither(mode: str) -> None:
    deployed = MODES[mode]
    iam = mode == "iam-clients"
    body = _api_body(deployed)
    assert body["securityDefinitions"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    for route in api_routes():
        security = body["paths"][route.path][route.method.lower()].get("security", [])
        if route.path.startswith(CLIENT_PREFIXES):
            # API Gateway imports sigv4 as AuthorizationType AWS_IAM, api_key as ApiKeyRequired.
            assert security == ([{"sigv4": []}] if iam else [{"api_key": []}]), f"{route.method} {route.path}"
        else:
            assert security == [], f"{route.method} {route.path}: callbacks authenticate per provider (NONE)"
    policies = _of_type(deployed, "AWS::IAM::ManagedPolicy")
    assert ("ClientPolicyArn" in deployed["Outputs"]) is iam
    if not iam:
        assert not policies
        return
    (policy,) = policies.values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "execute-api:Invoke"
    prefix = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/${Stage}/"
    patterns = []
    for resource in statement["Resource"]:
        arn = resource["Fn::Sub"]
        assert arn.startswith(prefix)
        patterns.append(arn[len(prefix) :])
    for route in api_routes():
        concrete = re.sub(r"\{\w+\}", "x", route.path)
        allowed = any(_execute_api_matches(pattern, route.method, concrete) for pattern in patterns)
        assert allowed is route.path.startswith(CLIENT_PREFIXES), f"{route.method} {route.path}"


@pytest.mark.parametrize("mode", sorted(MODES))
def test_the_web_acl_is_associated_only_when_given(mode: str) -> None:
    associations = _of_type(MODES[mode], "AWS::WAFv2::WebACLAssociation")
    if mode != "iam-clients":
        assert not associations
        return
    (association,) = associations.values()
    assert association["Properties"]["WebACLArn"] == {"Ref": "WebAclArn"}
    assert association["Properties"]["ResourceArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}/stages/${ApiStage}"
    }


def test_only_the_named_stage_is_deployed_and_it_throttles_every_route(transformed: dict[str, Any]) -> None:
    # Without OpenApiVersion, SAM also deploys a stage called "Stage" serving the same routes, outside
    # the web ACL, the throttle and the alarms (a hostile pass found it).
    deployments = _of_type(transformed, "AWS::ApiGateway::Deployment").values()
    assert all("StageName" not in body["Properties"] for body in deployments)
    (stage,) = _of_type(transformed, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["StageName"] == {"Ref": "Stage"}
    every_route = [s for s in stage["Properties"]["MethodSettings"] if s["ResourcePath"] == "/*"]
    assert every_route == [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": {"Ref": "ApiThrottleRate"},
            "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurst"},
        }
    ]


@pytest.mark.parametrize("mode", sorted(MODES))
def test_the_callbacks_function_url_tracing_and_platform_logs_follow_their_parameters(mode: str) -> None:
    deployed = MODES[mode]
    options = {"CallbackFunctionUrl": "true", "Tracing": "Disabled", "PlatformLogLevel": "WARN", **sam.VARIANTS[mode]}
    urls = _of_type(deployed, "AWS::Lambda::Url")
    permissions = {
        body["Properties"]["Action"]: body["Properties"]
        for body in _of_type(deployed, "AWS::Lambda::Permission").values()
        if body["Properties"]["FunctionName"] == {"Ref": "CallbacksFunctionAliaslive"}
        and body["Properties"]["Principal"] == "*"
    }
    outputs = json.dumps(deployed["Outputs"]["CallbackUrlComapi"])
    if options["CallbackFunctionUrl"] == "true":
        (url,) = urls.values()
        # The published version behind the alias, as API Gateway invokes it (SnapStart applies there).
        assert url["Properties"]["TargetFunctionArn"] == {"Ref": "CallbacksFunctionAliaslive"}
        assert url["Properties"]["AuthType"] == "NONE"
        # Both permissions a function URL created since October 2025 needs; InvokeFunction only via the URL.
        assert permissions["lambda:InvokeFunctionUrl"]["FunctionUrlAuthType"] == "NONE"
        assert permissions["lambda:InvokeFunction"]["InvokedViaFunctionUrl"] is True
        assert "CallbacksFunctionUrl.FunctionUrl" in outputs
    else:
        assert not urls
        assert not permissions  # nothing public
        assert "execute-api" in outputs
    # The API's callback routes stay in both cases: providers configured with them keep working.
    assert {(r.path, r.method) for r in api_routes()} >= {("/v1/callbacks/{provider}", "POST")}
    active = options["Tracing"] == "Active"
    for name, function in _of_type(deployed, "AWS::Lambda::Function").items():
        properties = function["Properties"]
        assert properties["TracingConfig"] == {"Mode": "Active" if active else "PassThrough"}, name
        assert properties["LoggingConfig"] == {
            "LogFormat": "JSON",
            "ApplicationLogLevel": {"Fn::FindInMap": ["LambdaLogLevel", {"Ref": "LogLevel"}, "Name"]},
            "SystemLogLevel": {"Ref": "PlatformLogLevel"},
        }, name
    (stage,) = _of_type(deployed, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"].get("TracingEnabled", False) is active


API_FUNCTIONS = {"StatusApiFunction", "CallbacksFunction", "SubscriptionsFunction"}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_the_api_invokes_published_versions_with_snapstart_as_chosen(mode: str) -> None:
    deployed = MODES[mode]
    resources = deployed["Resources"]
    chosen = sam.VARIANTS[mode].get("SnapStart", deployed["Parameters"]["SnapStart"]["Default"])
    assert chosen == ("PublishedVersions" if mode == "snapstart" else "None")
    functions = _of_type(deployed, "AWS::Lambda::Function")
    snapshotted = {name for name, body in functions.items() if "SnapStart" in body["Properties"]}
    assert snapshotted == API_FUNCTIONS  # not the poller, the notifier or the delivery function
    aliases = {
        body["Properties"]["FunctionName"]["Ref"]: body for body in _of_type(deployed, "AWS::Lambda::Alias").values()
    }
    assert set(aliases) == API_FUNCTIONS
    integrations = json.dumps(_api_body(deployed)["paths"])
    for name in API_FUNCTIONS:
        assert functions[name]["Properties"]["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
        alias = aliases[name]["Properties"]
        assert alias["Name"] == "live"
        (version_id, attribute) = alias["FunctionVersion"]["Fn::GetAtt"]
        version = resources[version_id]
        assert (version["Type"], attribute) == ("AWS::Lambda::Version", "Version")
        # Switching SnapStart replaces the version (its description cannot change in place), and a
        # replaced version is deleted with its cached snapshot.
        assert version["Properties"]["Description"] == {"Fn::Sub": "SnapStart ${SnapStart}"}
        assert version["DeletionPolicy"] == "Delete"
        # API Gateway calls the alias, and may: never the unpublished $LATEST.
        assert f"${{{name}Aliaslive}}" in integrations
        assert f"${{{name}}}" not in integrations
        permissions = [
            body["Properties"]
            for body in _of_type(deployed, "AWS::Lambda::Permission").values()
            if body["Properties"]["Principal"] == "apigateway.amazonaws.com"
            and body["Properties"]["FunctionName"] in ({"Ref": f"{name}Aliaslive"}, {"Ref": name})
        ]
        assert permissions
        assert all(p["FunctionName"] == {"Ref": f"{name}Aliaslive"} for p in permissions)
