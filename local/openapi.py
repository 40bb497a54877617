"""The service's OpenAPI document, merged from the functions' own resolvers.

`python -m local.openapi` writes docs/openapi.json; `--check` fails when it differs from the code.
The local stack serves it at /openapi.json, with Swagger UI at /docs.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import Server

from local.template import ROOT, functions
from textstatus.api import configure_openapi

DOCUMENT = ROOT / "docs" / "openapi.json"
DESCRIPTION = (
    "The true delivery status of every text message, whichever provider carried it "
    "(usajobs, comapi, govdelivery, wunderkind), and webhooks that tell clients the moment a status "
    "changes (subscriptions, signed per Standard Webhooks). Status and subscription routes need, as the "
    "deployment's ClientAuth chooses, the API key in `x-api-key` (API_KEY) or an AWS SigV4 signature for "
    "service `execute-api` (AWS_IAM, `sigv4`); "
    "callbacks are authenticated per provider. Every error has the shape "
    '`{"error": {"code", "message", "target", "details"}}`.'
)


def document() -> dict[str, Any]:
    merge = OpenAPIMerge(
        title="textstatus",
        version="1.0.0",
        description=DESCRIPTION,
        servers=[Server(url="http://127.0.0.1:3000", description="the local stack (make run)")],
        on_conflict="error",
    )
    for function in functions().values():
        if any(event["Type"] == "Api" for event in function.events.values()):
            resolver = importlib.import_module(function.module).app
            configure_openapi(resolver)
            merge.add_schema(json.loads(resolver.get_openapi_json_schema()))
    merged: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    return with_sigv4(merged)


SIGV4_SCHEME = {
    "type": "apiKey",
    "name": "Authorization",
    "in": "header",
    "description": "ClientAuth=AWS_IAM: an AWS Signature Version 4 for service execute-api "
    "(the caller needs execute-api:Invoke, e.g. the stack's ClientPolicyArn).",
    "x-amazon-apigateway-authtype": "awsSigv4",
}


def with_sigv4(document: dict[str, Any]) -> dict[str, Any]:
    """The SigV4 scheme, beside the API key. Operations keep `security: [apiKey]`: one document
    serves both deployments, and with ClientAuth=AWS_IAM the same routes take `sigv4` instead
    (the description says so); listing both per operation would claim either works on one stack."""
    schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["sigv4"] = SIGV4_SCHEME
    return document


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    current = render()
    if "--check" in argv:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != current:
            print(f"{DOCUMENT.relative_to(ROOT)} is out of date: run `python -m local.openapi`", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.parent.mkdir(exist_ok=True)
    DOCUMENT.write_text(current)
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
