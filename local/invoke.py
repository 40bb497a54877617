"""`make invoke FN=<logical id> EVENT=events/<file>.json`: one function, one event, against the
running local stack (its DynamoDB and simulators), as `sam local invoke` would."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

from local import template
from local.gateway import LambdaContext
from local.stack import LOCAL_DEFAULTS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("function", help="logical id in template.yaml, e.g. StatusApiFunction")
    parser.add_argument("event", type=Path, help="a JSON event file, e.g. events/status_api/get_status.json")
    args = parser.parse_args()
    functions = template.functions()
    if args.function not in functions:
        print(f"unknown function {args.function!r}; one of: {', '.join(functions)}", file=sys.stderr)
        return 2
    state_file = Path(os.environ.get("LOCAL_STATE_FILE", LOCAL_DEFAULTS["LOCAL_STATE_FILE"]))
    if not state_file.exists():
        print("the local stack is not running: start it with `make run` first", file=sys.stderr)
        return 2
    state = json.loads(state_file.read_text())
    os.environ.update(state["environment"])
    function = functions[args.function]
    # As `sam local invoke`: the function's logs go to stderr, its result alone to stdout.
    # (Powertools binds its log stream when the function module is first imported.)
    stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        handler = getattr(importlib.import_module(function.module), function.handler)
        result = handler(
            json.loads(args.event.read_text()), LambdaContext(function.logical_id, function.timeout_seconds)
        )
    finally:
        sys.stdout = stdout
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
