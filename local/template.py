"""Reads template.yaml, so the local stack and the tests use the deployment's own definitions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !Sub, !GetAtt, ...) as plain dicts."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


@cache
def load(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open() as handle:
        document = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    assert isinstance(document, dict)
    return document


def resources_of_type(kind: str, template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    template = template or load()
    return {name: body for name, body in template["Resources"].items() if body["Type"] == kind}


def table_definition(table_name: str, template: dict[str, Any] | None = None) -> tuple[dict[str, Any], str | None]:
    """create_table arguments for the template's one table, and its TTL attribute."""
    (properties,) = [body["Properties"] for body in resources_of_type("AWS::DynamoDB::Table", template).values()]
    arguments = {
        key: properties[key]
        for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
        if key in properties
    }
    arguments["TableName"] = table_name
    stream = properties.get("StreamSpecification")
    if stream:
        arguments["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    ttl = properties.get("TimeToLiveSpecification", {})
    return arguments, ttl.get("AttributeName") if ttl.get("Enabled") else None


def parameter_defaults(template: dict[str, Any] | None = None) -> dict[str, str]:
    template = template or load()
    return {name: str(body.get("Default", "")) for name, body in template.get("Parameters", {}).items()}


@dataclass(frozen=True)
class ApiRoute:
    function: str  # logical id
    module: str  # e.g. functions.status_api.app
    handler: str  # attribute in the module
    method: str
    path: str  # template path, e.g. /v1/messages/{provider}/{messageId}
    api_key_required: bool
    timeout_seconds: int

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", self.path)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}/?$")


@dataclass(frozen=True)
class FunctionDef:
    logical_id: str
    module: str
    handler: str
    timeout_seconds: int
    environment: dict[str, Any]
    events: dict[str, Any]


def function_urls(template: dict[str, Any] | None = None) -> dict[str, str]:
    """The Lambda function URLs the template declares, by the logical id of their function, with
    the parameter that turns each on (its Condition's `!Equals [!Ref <parameter>, "true"]`), or ""
    when it has none."""
    template = template or load()
    conditions = template.get("Conditions", {})
    urls = {}
    for body in resources_of_type("AWS::Lambda::Url", template).values():
        target = body["Properties"]["TargetFunctionArn"]
        function = (target["Ref"] if isinstance(target, dict) else str(target)).split(".")[0]  # X or X.Alias
        condition = conditions.get(body.get("Condition", ""), {}).get("Fn::Equals", [{}])
        urls[function] = condition[0].get("Ref", "") if isinstance(condition[0], dict) else ""
    return urls


def functions(template: dict[str, Any] | None = None) -> dict[str, FunctionDef]:
    template = template or load()
    globals_ = template.get("Globals", {}).get("Function", {})
    result = {}
    for logical_id, body in resources_of_type("AWS::Serverless::Function", template).items():
        properties = body["Properties"]
        module_file, handler = properties.get("Handler", globals_.get("Handler")).rsplit(".", 1)
        package = properties["CodeUri"].strip("/").replace("/", ".")
        environment = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **properties.get("Environment", {}).get("Variables", {}),
        }
        result[logical_id] = FunctionDef(
            logical_id=logical_id,
            module=f"{package}.{module_file}",
            handler=handler,
            timeout_seconds=int(properties.get("Timeout", globals_.get("Timeout", 3))),
            environment=environment,
            events=properties.get("Events", {}),
        )
    return result


def _api_auth(template: dict[str, Any], event_properties: dict[str, Any]) -> dict[str, Any]:
    """The Auth of the AWS::Serverless::Api an Api event belongs to (its RestApiId)."""
    api_ref = event_properties.get("RestApiId", {})
    name = api_ref.get("Ref") if isinstance(api_ref, dict) else None
    api = template["Resources"].get(name, {}) if name else {}
    auth: dict[str, Any] = api.get("Properties", {}).get("Auth", {})
    return auth


def api_routes(template: dict[str, Any] | None = None) -> list[ApiRoute]:
    """Every Api event's route; a route needs the key if its event says so, or else if its API does."""
    template = template or load()
    routes = []
    for function in functions(template).values():
        for event in function.events.values():
            if event["Type"] != "Api":
                continue
            properties = event["Properties"]
            default_key_required = _api_auth(template, properties).get("ApiKeyRequired", False)
            routes.append(
                ApiRoute(
                    function=function.logical_id,
                    module=function.module,
                    handler=function.handler,
                    method=properties["Method"].upper(),
                    path=properties["Path"],
                    api_key_required=bool(properties.get("Auth", {}).get("ApiKeyRequired", default_key_required)),
                    timeout_seconds=function.timeout_seconds,
                )
            )
    # Literal paths before parameterised ones, as API Gateway matches them.
    return sorted(routes, key=lambda route: (route.path.count("{"), -len(route.path)))


def schedules(template: dict[str, Any] | None = None) -> list[tuple[FunctionDef, str]]:
    """(function, schedule expression) for every Schedule event, with parameters resolved to defaults."""
    defaults = parameter_defaults(template)
    found = []
    for function in functions(template).values():
        for event in function.events.values():
            if event["Type"] in ("Schedule", "ScheduleV2"):
                expression = event["Properties"].get("Schedule") or event["Properties"].get("ScheduleExpression")
                if isinstance(expression, dict) and "Ref" in expression:
                    expression = defaults[expression["Ref"]]
                found.append((function, str(expression)))
    return found


def rate_seconds(expression: str) -> float:
    """Seconds between runs of a `rate(...)` expression (cron is not needed locally)."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not match:
        raise ValueError(f"only rate() schedules run locally, not {expression!r}")
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


@dataclass(frozen=True)
class GatewayResponse:
    """One of the API's GatewayResponses: what API Gateway answers itself for a response type."""

    response_type: str
    status_code: int | None  # None: API Gateway's own status for the situation
    headers: dict[str, str]
    template: str | None

    def body(self, message: str) -> bytes:
        """The body, with the $context variables the template uses substituted as API Gateway does
        (templates are not VTL; $context.error.messageString is the message as a JSON string)."""
        if self.template is None:
            return json.dumps({"message": message}).encode()
        text = self.template.replace("$context.error.messageString", json.dumps(message))
        return text.replace("$context.error.message", json.dumps(message)[1:-1]).encode()


def gateway_responses(template: dict[str, Any] | None = None) -> dict[str, GatewayResponse]:
    """The GatewayResponses of the template's AWS::Serverless::Api, by response type."""
    template = template or load()
    (api,) = resources_of_type("AWS::Serverless::Api", template).values()
    found = {}
    for response_type, body in api.get("Properties", {}).get("GatewayResponses", {}).items():
        headers = body.get("ResponseParameters", {}).get("Headers", {})
        templates = body.get("ResponseTemplates", {})
        status = body.get("StatusCode")
        found[response_type] = GatewayResponse(
            response_type=response_type,
            status_code=int(status) if status is not None else None,
            # Static header values are quoted ('application/json'); others name request values.
            headers={name: str(value).strip("'") for name, value in headers.items()},
            template=templates.get("application/json", next(iter(templates.values()), None)),
        )
    return found
