"""The SAM transform, as CloudFormation applies it: samtranslator turns template.yaml into the
CloudFormation template that is really deployed (functions, roles with their policies, the REST
API with its methods and gateway responses).

samtranslator pins its own pydantic (not ours), so it runs in .venv-sam, in a subprocess; the
result is cached per template text and parameters for the life of the process.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from typing import Any

from local.template import ROOT, TEMPLATE

SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"

# The parameter combinations that change which resources or conditions the transform produces.
# Add one here when a parameter switches resources on or off (egress/VPC, client-auth modes...):
# every variant is translated and checked by tests/integration/test_template.py.
VARIANTS: dict[str, dict[str, str]] = {
    "defaults": {},
    "alarm-topic": {"AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:textstatus-alarms"},
    # A fixed egress IP: the stack's own VPC and NAT gateway, or the agency's subnets.
    "static-egress": {"CreateStaticEgress": "true"},
    "own-subnets": {
        "EgressSubnetIds": "subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002",
        "EgressSecurityGroupIds": "sg-0a1b2c3d4e5f60003",
    },
    # SigV4 clients instead of API keys, behind a WAF web ACL.
    "iam-clients": {
        "ClientAuth": "AWS_IAM",
        "WebAclArn": "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/textstatus/0f1e2d3c-4b5a-6978",
    },
    # What the cost defaults leave out, turned back on: callbacks through the API only (behind the
    # WAF and the stage throttle), X-Ray traces, Lambda's START/REPORT lines.
    "api-callbacks-traced": {"CallbackFunctionUrl": "false", "Tracing": "Active", "PlatformLogLevel": "INFO"},
    # Lambda SnapStart on the published versions of the functions serving the API.
    "snapstart": {"SnapStart": "PublishedVersions"},
}

# Runs in .venv-sam. Local CodeUri/ContentUri become S3 URIs, as `sam package` / `sam deploy`
# make them; managed policies are never looked up (no AWS account): a policy name that is not
# an ARN fails the transform instead.
_SCRIPT = r"""
import json, os, sys
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

request = json.load(sys.stdin)
template = yaml_parse(request["template"])
for resource in template.get("Resources", {}).values():
    properties = resource.get("Properties") or {}
    for key in ("CodeUri", "ContentUri"):
        if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
            properties[key] = "s3://textstatus-artifacts/" + properties[key].strip("/")
try:
    output = Translator(None, Parser()).translate(
        template, parameter_values=request["parameters"], get_managed_policy_map=lambda: {}
    )
except InvalidDocumentException as exc:
    print(json.dumps({"errors": [str(cause) for cause in exc.causes]}))
    sys.exit(0)
print(json.dumps({"template": output}))
"""


class TransformError(Exception):
    """The SAM transform refused the template (what `sam deploy` would fail with)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


_cache: dict[tuple[str, str], dict[str, Any]] = {}


def available() -> bool:
    return SAM_PYTHON.exists()


def transform(parameters: Mapping[str, str] | None = None, template_text: str | None = None) -> dict[str, Any]:
    """The CloudFormation template the SAM transform makes of template.yaml (or of `template_text`)."""
    text = template_text if template_text is not None else TEMPLATE.read_text()
    request = json.dumps({"template": text, "parameters": dict(parameters or {})}, sort_keys=True)
    key = (text, request)
    if key not in _cache:
        if not available():
            raise TransformError([f"no {SAM_PYTHON}: run `make template-check` to install the SAM translator"])
        run = subprocess.run(  # noqa: S603 - our own interpreter and script
            [str(SAM_PYTHON), "-c", _SCRIPT],
            input=request,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if run.returncode != 0:
            raise TransformError([run.stderr.strip() or f"samtranslator exited with {run.returncode}"])
        answer = json.loads(run.stdout)
        if "errors" in answer:
            raise TransformError(answer["errors"])
        _cache[key] = answer["template"]
    copy: dict[str, Any] = json.loads(json.dumps(_cache[key]))  # callers may change it
    return copy


def deployed(template: dict[str, Any], parameters: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What CloudFormation makes of a translated template for these parameters: conditions
    evaluated, resources and outputs whose condition is false dropped, Fn::If chosen and
    AWS::NoValue removed. Other intrinsics stay as they are (enough to check which resources and
    which settings each mode deploys)."""
    values = {name: str(body.get("Default", "")) for name, body in template.get("Parameters", {}).items()}
    values.update(parameters or {})
    definitions = template.get("Conditions", {})
    known: dict[str, bool] = {}

    def value(node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, argument),) = node.items()
            if key == "Ref" and argument in values:
                kind = template["Parameters"][argument].get("Type", "String")
                raw = values[argument]
                return raw.split(",") if kind == "CommaDelimitedList" else raw
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in value(items))
        if isinstance(node, list):
            return [value(item) for item in node]
        return node

    def condition(node: Any) -> bool:
        if isinstance(node, str):
            if node not in known:
                known[node] = condition(definitions[node])
            return known[node]
        ((key, argument),) = node.items()
        if key == "Fn::Equals":
            return bool(value(argument[0]) == value(argument[1]))
        if key == "Fn::Not":
            return not condition(argument[0])
        if key == "Fn::Or":
            return any(condition(item) for item in argument)
        if key == "Fn::And":
            return all(condition(item) for item in argument)
        if key == "Condition":
            return condition(argument)
        raise ValueError(f"unsupported condition {node!r}")

    no_value = object()

    def choose(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, then, otherwise = node["Fn::If"]
                return choose(then if condition(name) else otherwise)
            if node == {"Ref": "AWS::NoValue"}:
                return no_value
            chosen = {key: choose(item) for key, item in node.items()}
            return {key: item for key, item in chosen.items() if item is not no_value}
        if isinstance(node, list):
            return [item for item in (choose(element) for element in node) if item is not no_value]
        return node

    result: dict[str, Any] = json.loads(json.dumps(template))
    for section in ("Resources", "Outputs"):
        result[section] = {
            name: choose(body)
            for name, body in result.get(section, {}).items()
            if "Condition" not in body or condition(body["Condition"])
        }
    return result


def main() -> int:
    """Translates every variant (make template-check): the transform must accept each mode."""
    failed = 0
    for name, parameters in sorted(VARIANTS.items()):
        try:
            resources = deployed(transform(parameters), parameters)["Resources"]
        except TransformError as exc:
            print(f"{name}: the SAM transform refuses it: {exc}")
            failed += 1
            continue
        print(f"{name}: translated, {len(resources)} resources deployed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
