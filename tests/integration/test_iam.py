"""Permissions proven by a test: moto does not check IAM, so local.iam records every AWS call each
function makes and evaluates it against the function's role in the transformed template. The
whole suite is checked at the end of the session (tests/conftest.py); these tests show the check
attributes calls correctly, resolves the template's policies, and fails when an action is missing,
and that the local gateway refuses such a call as AWS does."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from local import iam
from local.simulators.wunderkind import WunderkindSimulator
from local.stack import scheduled_event
from tests.conftest import TEST_ENV
from tests.support.aws import api_event, invoke, local_api
from tests.support.payloads import WUNDERKIND_CALLBACK_HEADERS as CALLBACK_HEADERS
from tests.support.payloads import wunderkind_callback

TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{iam.ACCOUNT_ID}:table/{TEST_ENV['TABLE_NAME']}"
MESSAGE_ID = "f9eea82a-ce63-4dfa-ae8e-09b891f446cc"


@pytest.fixture(scope="module")
def policies() -> iam.Policies:
    return iam.Policies.from_template()


@pytest.fixture
def recorder() -> Iterator[iam.Recorder]:
    recorder = iam.Recorder()
    with iam.recording(recorder):
        yield recorder


def without_action(policies: iam.Policies, function: str, action: str) -> iam.Policies:
    """A copy of the transformed template whose role for `function` lacks `action`."""
    transformed = copy.deepcopy(policies.transformed)
    role = transformed["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    removed = 0
    for policy in transformed["Resources"][role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            removed += actions.count(action)
            statement["Action"] = [a for a in actions if a != action]
    assert removed, f"{function}'s role has no {action} to remove"
    return iam.Policies(transformed)


def test_calls_outside_a_handler_belong_to_no_function(aws: None, recorder: iam.Recorder) -> None:
    client = boto3.client("dynamodb")
    client.describe_table(TableName=TEST_ENV["TABLE_NAME"])
    client.scan(TableName=TEST_ENV["TABLE_NAME"])
    assert recorder.calls == []


def test_each_call_is_attributed_to_the_running_function_with_its_resource(
    aws: None, recorder: iam.Recorder, policies: iam.Policies
) -> None:
    from functions.callbacks import app as callbacks
    from functions.poller import app as poller
    from functions.status_api import app as status_api

    register = {"provider": "wunderkind", "messageId": MESSAGE_ID, "reference": "order-1"}
    assert invoke(status_api, api_event("POST", "/v1/messages", body=register))[0] == 201
    assert invoke(status_api, api_event("GET", "/v1/messages", query={"reference": "order-1"}))[0] == 200
    event = api_event("POST", "/v1/callbacks/wunderkind", body=wunderkind_callback("SENDING"), headers=CALLBACK_HEADERS)
    assert invoke(callbacks, event)[0] == 200
    poller.lambda_handler(scheduled_event("PollerFunctionSchedule"), iam_context())

    seen = {(call.function, call.action, call.resources) for call in recorder.calls}
    assert ("StatusApiFunction", "dynamodb:Query", (f"{TABLE_ARN}/index/reference-index",)) in seen
    assert ("CallbacksFunction", "dynamodb:PutItem", (TABLE_ARN,)) in seen
    assert ("CallbacksFunction", "dynamodb:UpdateItem", (TABLE_ARN,)) in seen
    assert ("PollerFunction", "dynamodb:Query", (f"{TABLE_ARN}/index/due-index",)) in seen
    assert {call.function for call in recorder.calls} == {"StatusApiFunction", "CallbacksFunction", "PollerFunction"}
    assert policies.check_all(recorder.calls) == []


def iam_context() -> Any:
    from local.gateway import LambdaContext

    return LambdaContext("PollerFunction", 50)


def test_the_poller_threads_calls_are_the_pollers(
    aws: None, wunderkind_sim: WunderkindSimulator, recorder: iam.Recorder, env: pytest.MonkeyPatch
) -> None:
    """The poller polls from thread pools: their calls are still attributed to it."""
    from functions.poller import app as poller
    from functions.status_api import app as status_api

    env.setenv("POLL_INITIAL_DELAY_SECONDS", "1")
    env.setenv("POLL_MAX_BACKOFF_SECONDS", "1")
    message = wunderkind_sim.add_message([("SENDING", 0.0)], silent=True)
    body = {"provider": "wunderkind", "messageId": message.message_id}
    assert invoke(status_api, api_event("POST", "/v1/messages", body=body))[0] == 201
    recorder_before = {(c.function, c.action) for c in recorder.calls}
    time.sleep(1.1)
    result = poller.lambda_handler(scheduled_event("PollerFunctionSchedule"), iam_context())
    assert result["polled"] >= 1
    after = {(c.function, c.action) for c in recorder.calls} - recorder_before
    assert ("PollerFunction", "dynamodb:UpdateItem") in after
    assert all(function == "PollerFunction" for function, _ in after)


def test_secrets_read_from_ssm_are_checked_against_the_parameters_the_role_names(
    aws: None,
    wunderkind_sim: WunderkindSimulator,
    recorder: iam.Recorder,
    policies: iam.Policies,
    env: pytest.MonkeyPatch,
) -> None:
    from functions.status_api import app as status_api

    ssm = boto3.client("ssm")
    for setting, parameter in (
        ("WUNDERKIND_CLIENT_ID", "/textstatus/wunderkind/client-id"),
        ("WUNDERKIND_CLIENT_SECRET", "/textstatus/wunderkind/client-secret"),
    ):
        ssm.put_parameter(Name=parameter, Value=TEST_ENV[setting], Type="SecureString")
        env.delenv(setting)
        env.setenv(f"{setting}_PARAMETER", parameter)
    message = wunderkind_sim.add_message([("DELIVERED", 0.0)], silent=True)
    code, _, body = invoke(status_api, api_event("GET", f"/v1/messages/wunderkind/{message.message_id}"))
    assert code == 200, body

    reads = {c.resources for c in recorder.calls if c.action == "ssm:GetParameter"}
    prefix = f"arn:aws:ssm:us-east-1:{iam.ACCOUNT_ID}:parameter"
    assert reads == {(f"{prefix}/textstatus/wunderkind/client-id",), (f"{prefix}/textstatus/wunderkind/client-secret",)}
    assert policies.check_all(recorder.calls) == []
    # The same read by a function whose role does not name the parameter is refused.
    (read,) = [c for c in recorder.calls if c.action == "ssm:GetParameter"][:1]
    as_callbacks = iam.Call("CallbacksFunction", read.action, read.resources, read.environment)
    assert policies.check(as_callbacks) == [iam.Denied("CallbacksFunction", "ssm:GetParameter", read.resources[0])]


def test_a_missing_action_is_reported_naming_the_function_the_action_and_the_resource(
    aws: None, recorder: iam.Recorder, policies: iam.Policies
) -> None:
    from functions.callbacks import app as callbacks

    event = api_event(
        "POST", "/v1/callbacks/wunderkind", body=wunderkind_callback("DELIVERED"), headers=CALLBACK_HEADERS
    )
    assert invoke(callbacks, event)[0] == 200
    assert policies.check_all(recorder.calls) == []

    lacking = without_action(policies, "CallbacksFunction", "dynamodb:UpdateItem")
    denied = lacking.check_all(recorder.calls)
    assert denied == [iam.Denied("CallbacksFunction", "dynamodb:UpdateItem", TABLE_ARN)]
    assert str(denied[0]) == f"CallbacksFunction is not allowed dynamodb:UpdateItem on {TABLE_ARN}"


def test_an_action_the_role_never_had_is_reported(policies: iam.Policies) -> None:
    """What slipped through before this check: register_many read items back with BatchGetItem,
    which StatusApiFunction's role lacked then. Registration no longer reads back at all; only the
    outcomes report reads with it (StatusApiFunction's role has it now), and no other role has it."""
    environment = (("TABLE_NAME", TEST_ENV["TABLE_NAME"]),)
    for function in ("CallbacksFunction", "PollerFunction"):
        assert policies.check(iam.Call(function, "dynamodb:BatchGetItem", (TABLE_ARN,), environment)) == [
            iam.Denied(function, "dynamodb:BatchGetItem", TABLE_ARN)
        ]
    call = iam.Call("StatusApiFunction", "dynamodb:BatchGetItem", (TABLE_ARN,), environment)
    assert policies.check(call) == []
    call = iam.Call("StatusApiFunction", "dynamodb:Scan", (TABLE_ARN,), environment)
    assert policies.check(call) == [iam.Denied("StatusApiFunction", "dynamodb:Scan", TABLE_ARN)]
    # The table is whatever TABLE_NAME names where the function runs (Ref MessagesTable).
    other_table = TABLE_ARN.replace(TEST_ENV["TABLE_NAME"], "someone-elses-table")
    put = iam.Call("StatusApiFunction", "dynamodb:PutItem", (other_table,), environment)
    assert policies.check(put) == [iam.Denied("StatusApiFunction", "dynamodb:PutItem", other_table)]
    assert policies.check(iam.Call("StatusApiFunction", "dynamodb:PutItem", (TABLE_ARN,), environment)) == []


def test_statements_are_matched_with_iam_wildcards_and_an_explicit_deny_wins() -> None:
    def role(*statements: dict[str, Any]) -> iam.Policies:
        transformed = {
            "Resources": {
                "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["FnRole", "Arn"]}}},
                "FnRole": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": list(statements)}}]
                    },
                },
            }
        }
        return iam.Policies(transformed)

    table = "arn:aws:dynamodb:us-east-1:123456789012:table/t"
    wide = role({"Effect": "Allow", "Action": "dynamodb:*Item", "Resource": "arn:aws:dynamodb:*:*:table/*"})
    assert wide.allows("Fn", "dynamodb:PutItem", table)
    assert wide.allows("Fn", "DynamoDB:getitem", table)  # actions are case-insensitive
    assert wide.allows("Fn", "dynamodb:PutItem", f"{table}/index/i")  # * spans slashes, as in IAM
    assert not wide.allows("Fn", "dynamodb:Query", table)
    assert not wide.allows("Fn", "dynamodb:PutItem", table.upper())  # resources are not
    denying = role(
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": table},
    )
    assert denying.allows("Fn", "dynamodb:PutItem", table)
    assert not denying.allows("Fn", "dynamodb:DeleteItem", table)
    conditional = role({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"x": "true"}}})
    assert not conditional.allows("Fn", "dynamodb:PutItem", table)
    not_action = role({"Effect": "Allow", "NotAction": "dynamodb:Delete*", "Resource": "?rn:*"})
    assert not_action.allows("Fn", "dynamodb:PutItem", table)
    assert not not_action.allows("Fn", "dynamodb:DeleteTable", table)


def test_the_local_gateway_refuses_what_the_role_lacks_and_answers_500_in_the_error_shape(
    env: pytest.MonkeyPatch, policies: iam.Policies, caplog: pytest.LogCaptureFixture
) -> None:
    lacking = without_action(policies, "CallbacksFunction", "dynamodb:UpdateItem")
    with local_api(env, "iam-key", containers=1, policies=lacking) as url:
        answer = requests.post(
            f"{url}/v1/callbacks/wunderkind",
            json=wunderkind_callback("DELIVERED"),
            headers=CALLBACK_HEADERS,
            timeout=10,
        )
        assert answer.status_code == 500, answer.text
        assert answer.headers["Content-Type"].startswith("application/json")
        body = answer.json()
        assert set(body) == {"error"}
        assert set(body["error"]) == {"code", "message", "target", "details"}
        assert body["error"]["code"] == "InternalError"
        refused = [r for r in caplog.records if r.getMessage() == "AWS refused a request"]
        assert [(r.__dict__["action"], r.__dict__["aws_error"]) for r in refused] == [
            ("dynamodb:UpdateItem", "AccessDeniedException")
        ]
        # What the role does allow still works through the same gateway.
        register = {"provider": "wunderkind", "messageId": MESSAGE_ID}
        created = requests.post(f"{url}/v1/messages", json=register, headers={"x-api-key": "iam-key"}, timeout=10)
        assert created.status_code == 201, created.text


def test_the_local_gateway_answers_access_denied_as_aws_does(policies: iam.Policies) -> None:
    """The refusal itself: a botocore ClientError with AWS's code, raised before the call is sent."""
    from botocore.exceptions import ClientError

    iam.install()
    lacking = without_action(policies, "CallbacksFunction", "dynamodb:PutItem")
    client = boto3.client("dynamodb", endpoint_url="http://127.0.0.1:9")  # nothing listens: never reached
    with iam.running("CallbacksFunction", lacking), pytest.raises(ClientError) as refused:
        client.put_item(TableName=TEST_ENV["TABLE_NAME"], Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert f"is not authorized to perform: dynamodb:PutItem on resource: {TABLE_ARN}" in error["Message"]
    assert refused.value.operation_name == "PutItem"


def test_a_transaction_needs_each_items_own_action() -> None:
    """TransactWriteItems has no IAM action: each Put/Update/ConditionCheck needs its own."""
    client = boto3.client("dynamodb")
    items = [
        {"Put": {"TableName": "a", "Item": {}}},
        {"Update": {"TableName": "a", "Key": {}, "UpdateExpression": "SET x = :x"}},
        {"Update": {"TableName": "b", "Key": {}, "UpdateExpression": "SET x = :x"}},
    ]
    table = f"arn:aws:dynamodb:us-east-1:{iam.ACCOUNT_ID}:table"
    assert iam.describe(client, "TransactWriteItems", {"TransactItems": items}) == [
        ("dynamodb:PutItem", (f"{table}/a",)),
        ("dynamodb:UpdateItem", (f"{table}/a", f"{table}/b")),
    ]
    assert iam.describe(client, "Query", {"TableName": "a", "IndexName": "i"}) == [
        ("dynamodb:Query", (f"{table}/a/index/i",))
    ]
    assert iam.describe(client, "BatchGetItem", {"RequestItems": {"a": {}, "b": {}}}) == [
        ("dynamodb:BatchGetItem", (f"{table}/a", f"{table}/b"))
    ]
