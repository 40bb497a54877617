"""Which AWS calls each function makes, and whether its role allows them.

moto does not check IAM, so a function calling an action its policy lacks passes every test and
fails on AWS. This module closes that gap:

- `install()` hooks every botocore client (`BaseClient._make_api_call`, so DynamoDB, SSM through
  Powertools Parameters, anything) and describes each call as an IAM action and resources.
- A call is attributed to a function only while that function's handler runs: `running(logical_id)`
  sets a context variable around each invocation (the local gateway's FunctionHost, the local
  schedule, and the tests' handlers through `attributed`). Threads a handler starts through a
  ThreadPoolExecutor (the poller's pools) inherit it. Calls made outside a handler (test setup
  creating tables, tests reading items back) belong to no function and are not checked.
- `Policies` evaluates a call against the function's role in the template the SAM transform
  produced (local.sam): inline policies with `!Sub`, `!GetAtt`, `!Ref` resolved for a fake
  account, region and partition, actions and resources matched with IAM's wildcards. Managed
  policies (AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess) are not evaluated: the code
  never needs them through boto3.
- With policies given to `running`, a call its role does not allow is refused as AWS refuses it,
  with a ClientError `AccessDeniedException` (the local stack, and the tests that start the gateway).
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from local import sam
from local import template as sam_template

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
STACK_NAME = "textstatus"


@dataclass(frozen=True)
class Call:
    """One AWS API call made while a function ran."""

    function: str  # the template's logical id
    action: str  # e.g. dynamodb:PutItem
    resources: tuple[str, ...]  # ARNs, or "*" for an action on no resource
    # The environment variables the template sets from a Ref, as they were at the call: they name
    # the resources the policy names (TABLE_NAME is MessagesTable, *_PARAMETER the SSM parameters).
    environment: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Denied:
    function: str
    action: str
    resource: str

    def __str__(self) -> str:
        return f"{self.function} is not allowed {self.action} on {self.resource}"


# -- attribution ------------------------------------------------------------------------------------

_running: contextvars.ContextVar[tuple[str, Policies | None] | None] = contextvars.ContextVar(
    "textstatus_running_function", default=None
)


@contextmanager
def running(logical_id: str, policies: Policies | None = None) -> Iterator[None]:
    """Attribute the AWS calls made in this block (and in pool threads it starts) to a function;
    with `policies`, refuse those its role does not allow."""
    token = _running.set((logical_id, policies))
    try:
        yield
    finally:
        _running.reset(token)


def current_function() -> str | None:
    state = _running.get()
    return state[0] if state else None


def attributed[**P, R](logical_id: str, handler: Callable[P, R]) -> Callable[P, R]:
    """The handler, attributing the calls it makes to `logical_id` (not enforcing)."""

    @functools.wraps(handler)
    def invoke(*args: P.args, **kwargs: P.kwargs) -> R:
        state = _running.get()
        with running(logical_id, state[1] if state and state[0] == logical_id else None):
            return handler(*args, **kwargs)

    invoke.__textstatus_function__ = logical_id  # type: ignore[attr-defined]
    return invoke


# -- recording ---------------------------------------------------------------------------------------


class Recorder:
    """Every distinct attributed call, from any thread."""

    def __init__(self) -> None:
        self._calls: set[Call] = set()
        self._lock = threading.Lock()

    def __call__(self, call: Call) -> None:
        with self._lock:
            self._calls.add(call)

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return sorted(self._calls, key=lambda call: (call.function, call.action, call.resources))


_recorders: list[Callable[[Call], None]] = []
_installed = False
_install_lock = threading.Lock()


@contextmanager
def recording(recorder: Callable[[Call], None]) -> Iterator[None]:
    install()
    _recorders.append(recorder)
    try:
        yield
    finally:
        _recorders.remove(recorder)


def install() -> None:
    """Hook every botocore client and carry the running function into ThreadPoolExecutor work (once)."""
    global _installed  # one process-wide hook
    with _install_lock:
        if _installed:
            return
        from botocore.client import BaseClient

        original_call = getattr(BaseClient, "_make_api_call")  # noqa: B009 - private, not in the stubs
        original_submit = ThreadPoolExecutor.submit

        def _make_api_call(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
            state = _running.get()
            if state is not None:
                function, policies = state
                environment = environment_snapshot()
                calls = [Call(function, a, r, environment) for a, r in describe(self, operation_name, api_params)]
                for call in calls:
                    for recorder in list(_recorders):
                        recorder(call)
                if policies is not None:
                    for call in calls:
                        denied = policies.check(call)
                        if denied:
                            raise access_denied(operation_name, denied[0])
            return original_call(self, operation_name, api_params)

        def submit(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
            if _running.get() is None:
                return original_submit(self, fn, *args, **kwargs)
            return original_submit(self, contextvars.copy_context().run, fn, *args, **kwargs)

        setattr(BaseClient, "_make_api_call", _make_api_call)  # noqa: B010 - patching on purpose
        setattr(ThreadPoolExecutor, "submit", submit)  # noqa: B010
        _installed = True


def access_denied(operation_name: str, denied: Denied) -> Exception:
    """What AWS answers a role that lacks the permission."""
    from botocore.exceptions import ClientError

    role = f"arn:{PARTITION}:sts::{ACCOUNT_ID}:assumed-role/{denied.function}Role/{denied.function}"
    message = (
        f"User: {role} is not authorized to perform: {denied.action} on resource: {denied.resource} "
        f"because no identity-based policy allows the {denied.action} action"
    )
    response: Any = {
        "Error": {"Code": "AccessDeniedException", "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    return ClientError(response, operation_name)


@functools.cache
def _referenced_variables() -> tuple[str, ...]:
    """The environment variables the template sets from a Ref, in any function."""
    names = set()
    for function in sam_template.functions().values():
        for name, value in function.environment.items():
            if isinstance(value, dict) and "Ref" in value:
                names.add(name)
    return tuple(sorted(names))


def environment_snapshot() -> tuple[tuple[str, str], ...]:
    return tuple((name, os.environ[name]) for name in _referenced_variables() if os.environ.get(name))


def _arn(service: str, region: str, resource: str) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT_ID}:{resource}"


def _parameter_arn(region: str, name: str) -> str:
    return _arn("ssm", region, f"parameter{name}" if name.startswith("/") else f"parameter/{name}")


# DynamoDB transactions have no IAM action of their own: each item needs its own action.
_TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def describe(client: Any, operation_name: str, params: Mapping[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    """The IAM actions and the resources (ARNs) one API call needs (several for a transaction)."""
    model = client.meta.service_model
    prefix = model.signing_name or model.endpoint_prefix
    region = client.meta.region_name or REGION
    resources: list[str] = []
    if prefix == "dynamodb" and operation_name in ("TransactWriteItems", "TransactGetItems"):
        needed: dict[str, list[str]] = {}
        for item in params.get("TransactItems", []):
            for kind, operation in item.items():
                arn = _arn("dynamodb", region, f"table/{operation['TableName']}")
                needed.setdefault(f"dynamodb:{_TRANSACT_ITEM_ACTIONS[kind]}", []).append(arn)
        return [(action, tuple(dict.fromkeys(arns))) for action, arns in needed.items()]
    if prefix == "dynamodb":
        tables: list[str] = []
        if "TableName" in params:
            tables.append(params["TableName"])
        tables += list(params.get("RequestItems", {}))
        for table in dict.fromkeys(tables):
            arn = _arn("dynamodb", region, f"table/{table}")
            index = params.get("IndexName")
            resources.append(f"{arn}/index/{index}" if index and operation_name in ("Query", "Scan") else arn)
    elif prefix == "sqs" and "QueueUrl" in params:
        resources.append(_arn("sqs", region, str(params["QueueUrl"]).rstrip("/").rsplit("/", 1)[-1]))
    elif prefix == "events" and operation_name == "PutEvents":
        buses = {str(entry.get("EventBusName") or "default") for entry in params.get("Entries", [])}
        resources += [
            bus if bus.startswith("arn:") else _arn("events", region, f"event-bus/{bus}") for bus in sorted(buses)
        ]
    elif prefix == "ssm":
        names = [params["Name"]] if "Name" in params else list(params.get("Names", []))
        if "Path" in params:
            names.append(params["Path"])
        resources += [_parameter_arn(region, name) for name in names]
    # IAM authorizes SQS's batch actions as their single-message actions.
    action = _SQS_BATCH_ACTIONS.get(operation_name, operation_name) if prefix == "sqs" else operation_name
    return [(f"{prefix}:{action}", tuple(resources) or ("*",))]


_SQS_BATCH_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


# -- evaluation ---------------------------------------------------------------------------------------


class UnresolvableError(ValueError):
    """A policy uses an intrinsic function or reference this evaluator cannot resolve."""


def _wildcard(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    conditional: bool

    def matches(self, action: str, resource: str) -> bool:
        if self.actions and not any(_wildcard(p, ignore_case=True).match(action) for p in self.actions):
            return False
        if self.not_actions and any(_wildcard(p, ignore_case=True).match(action) for p in self.not_actions):
            return False
        if self.resources and not any(_wildcard(p, ignore_case=False).match(resource) for p in self.resources):
            return False
        return not (
            self.not_resources and any(_wildcard(p, ignore_case=False).match(resource) for p in self.not_resources)
        )


class Policies:
    """The functions' roles in a transformed template, evaluated as IAM does (an explicit Deny wins;
    otherwise an Allow must match the action and the resource). A statement with a Condition never
    allows here (conservative) and always denies."""

    def __init__(
        self,
        transformed: dict[str, Any],
        parameters: Mapping[str, str] | None = None,
        source: dict[str, Any] | None = None,
    ) -> None:
        self._transformed = transformed
        self._source = source if source is not None else sam_template.load()
        defaults = sam_template.parameter_defaults(self._source)
        self._parameters = {**defaults, **(parameters or {})}
        self._cache: dict[tuple[str, tuple[tuple[str, str], ...]], list[Statement]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_template(cls, parameters: Mapping[str, str] | None = None, template_text: str | None = None) -> Policies:
        return cls(sam.transform(parameters, template_text), parameters)

    @property
    def transformed(self) -> dict[str, Any]:
        return self._transformed

    def role_policies(self, function: str) -> list[dict[str, Any]]:
        """The inline policy documents of a function's role (unresolved)."""
        resources = self._transformed["Resources"]
        body = resources.get(function)
        if body is None or body["Type"] != "AWS::Lambda::Function":
            raise UnresolvableError(f"no function {function} in the transformed template")
        role = body["Properties"]["Role"]
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            raise UnresolvableError(f"{function}'s role is not a role of this template: {role!r}")
        role_body = resources[role["Fn::GetAtt"][0]]
        return [policy["PolicyDocument"] for policy in role_body["Properties"].get("Policies", [])]

    def statements(self, function: str, environment: tuple[tuple[str, str], ...] = ()) -> list[Statement]:
        key = (function, environment)
        with self._lock:
            if key not in self._cache:
                resolver = _Resolver(self._transformed, self._source, self._parameters, function, dict(environment))
                found = []
                for document in self.role_policies(function):
                    for raw in _as_list(document.get("Statement", [])):
                        statement = resolver.resolve(raw)
                        found.append(
                            Statement(
                                effect=statement["Effect"],
                                actions=tuple(_as_list(statement.get("Action", []))),
                                not_actions=tuple(_as_list(statement.get("NotAction", []))),
                                resources=tuple(_as_list(statement.get("Resource", []))),
                                not_resources=tuple(_as_list(statement.get("NotResource", []))),
                                conditional="Condition" in statement,
                            )
                        )
                self._cache[key] = found
            return self._cache[key]

    def allows(self, function: str, action: str, resource: str, environment: tuple[tuple[str, str], ...] = ()) -> bool:
        statements = self.statements(function, environment)
        if any(s.effect == "Deny" and s.matches(action, resource) for s in statements):
            return False
        return any(s.effect == "Allow" and not s.conditional and s.matches(action, resource) for s in statements)

    def check(self, call: Call) -> list[Denied]:
        return [
            Denied(call.function, call.action, resource)
            for resource in call.resources
            if not self.allows(call.function, call.action, resource, call.environment)
        ]

    def check_all(self, calls: list[Call]) -> list[Denied]:
        return sorted(
            {denied for call in calls for denied in self.check(call)},
            key=lambda d: (d.function, d.action, d.resource),
        )


class _Resolver:
    """Resolves CloudFormation intrinsics in one function's policies, for a fake account."""

    def __init__(
        self,
        transformed: dict[str, Any],
        source: dict[str, Any],
        parameters: Mapping[str, str],
        function: str,
        environment: Mapping[str, str],
    ) -> None:
        self._resources = transformed["Resources"]
        self._conditions = transformed.get("Conditions", {})
        self._parameters = dict(parameters)
        self._physical: dict[str, str] = {}
        # The function's environment names what a Ref means where it runs: TABLE_NAME is the table
        # (Ref MessagesTable), COMAPI_TOKEN_PARAMETER the parameter ComapiTokenParameter.
        definition = sam_template.functions(source).get(function)
        for name, value in (definition.environment if definition else {}).items():
            if isinstance(value, dict) and "Ref" in value and environment.get(name):
                if value["Ref"] in self._parameters:
                    self._parameters[value["Ref"]] = environment[name]
                else:
                    self._physical[value["Ref"]] = environment[name]
        self._pseudo = {
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::StackName": STACK_NAME,
            "AWS::URLSuffix": "amazonaws.com",
        }

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (name, argument), *_ = value.items()
            if name == "Ref":
                return self._ref(argument)
            if name == "Fn::GetAtt":
                resource, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self._get_att(resource, attribute)
            if name == "Fn::Sub":
                return self._sub(argument)
            if name == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            if name == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if name == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if name == "Fn::If":
                condition, when_true, when_false = argument
                return self.resolve(when_true if self._condition(condition) else when_false)
            if name.startswith("Fn::"):
                raise UnresolvableError(f"{name} in a policy")
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            return self._parameters[name]
        if name in self._resources:
            return self._physical.get(name, name)
        raise UnresolvableError(f"Ref {name}")

    def _get_att(self, resource: str, attribute: str) -> str:
        body = self._resources.get(resource)
        if body is None:
            raise UnresolvableError(f"GetAtt {resource}.{attribute}")
        name = self._physical.get(resource, resource)
        if body["Type"] == "AWS::DynamoDB::Table" and attribute == "Arn":
            return _arn("dynamodb", REGION, f"table/{name}")
        if body["Type"] == "AWS::DynamoDB::Table" and attribute == "StreamArn":
            return _arn("dynamodb", REGION, f"table/{name}/stream/*")
        # A queue's physical name is its URL (Ref) where the function runs: the name is its last part.
        if body["Type"] == "AWS::SQS::Queue" and attribute in ("Arn", "QueueName"):
            queue = name.rstrip("/").rsplit("/", 1)[-1]
            return _arn("sqs", REGION, queue) if attribute == "Arn" else queue
        if body["Type"] == "AWS::Events::EventBus" and attribute in ("Arn", "Name"):
            return _arn("events", REGION, f"event-bus/{name}") if attribute == "Arn" else name
        if body["Type"] == "AWS::SNS::Topic" and attribute == "TopicName":
            return name
        raise UnresolvableError(f"GetAtt {resource}.{attribute} ({body['Type']})")

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        resolved_variables = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in resolved_variables:
                return str(resolved_variables[name])
            if "." in name and not name.startswith("AWS::"):
                resource, attribute = name.split(".", 1)
                return self._get_att(resource, attribute)
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _condition(self, name: str) -> bool:
        return bool(self._evaluate(self._conditions[name]))

    def _evaluate(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            (name, argument), *_ = value.items()
            if name == "Fn::Equals":
                left, right = (self._evaluate(item) for item in argument)
                return str(left) == str(right)
            if name == "Fn::Not":
                return not self._evaluate(argument[0])
            if name == "Fn::And":
                return all(self._evaluate(item) for item in argument)
            if name == "Fn::Or":
                return any(self._evaluate(item) for item in argument)
            if name == "Condition":
                return self._condition(argument)
        return self.resolve(value)


_NO_VALUE: Any = object()
