"""Checks on what `sam build` produced, so "the tests pass but the Lambda cannot import" fails here.

`python -m local.buildcheck` prints the layer's unzipped size and fails if it is over the limit or
bundles boto3/botocore. With `--invoke` it then starts the local stack and runs every sample
event in events/ through the *built* function, in a Python that has only boto3 (as the Lambda
runtime does) with the function's own folder and the built layer on its path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from local.template import ROOT, functions

BUILD = ROOT / ".aws-sam" / "build"
RUNTIME_PYTHON = ROOT / ".venv-runtime" / "bin" / "python"
LAYER_LIMIT_BYTES = 20 * 1024 * 1024
FORBIDDEN_IN_LAYER = ("boto3", "botocore")
# A sample may answer an error on purpose; anything else must not be a 5xx.
EXPECTED = {"wunderkind_bad_credentials.json": 401, "usajobs_not_supported.json": 404}

RUNNER = """
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
class Context:
    function_name = "buildcheck"; memory_limit_in_mb = 256; aws_request_id = "buildcheck"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:buildcheck"
    deadline = time.monotonic() + 30
    def get_remaining_time_in_millis(self): return int((self.deadline - time.monotonic()) * 1000)
result = app.lambda_handler(json.load(open(sys.argv[3])), Context())
print("BUILDCHECK " + json.dumps({"result": result}))
"""


def layer_dir() -> Path:
    return BUILD / "SharedLayer"


def unzipped_size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def check_layer() -> bool:
    layer = layer_dir()
    if not layer.is_dir():
        print("no built layer: run `make build` first", file=sys.stderr)
        return False
    size = unzipped_size(layer)
    bundled = [name for name in FORBIDDEN_IN_LAYER if (layer / "python" / name).exists()]
    print(f"layer: {size / 1024 / 1024:.1f} MB unzipped (limit {LAYER_LIMIT_BYTES / 1024 / 1024:.0f} MB)")
    if bundled:
        print(f"layer bundles {', '.join(bundled)}: the Lambda runtime provides them", file=sys.stderr)
    return size <= LAYER_LIMIT_BYTES and not bundled


def invoke_samples() -> bool:
    from local.stack import LOCAL_DEFAULTS, LocalStack, free_port, function_environment

    if not RUNTIME_PYTHON.exists():
        print("no .venv-runtime: run `make build-check`", file=sys.stderr)
        return False
    state = Path(tempfile.mkdtemp()) / "stack.json"
    settings = {
        **LOCAL_DEFAULTS,
        "LOCAL_API_PORT": str(free_port()),
        "LOCAL_DYNAMODB_PORT": str(free_port()),
        "LOCAL_CALLBACK_URL_PORT": str(free_port()),
        "LOCAL_STATE_FILE": str(state),
        "LOCAL_POLL_INTERVAL": "3600",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    stack = LocalStack(settings)
    stack.start()
    ok = True
    try:
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "POWERTOOLS_METRICS_DISABLED": "true",
            "PYTHONDONTWRITEBYTECODE": "1",  # leave the built artifacts as sam built them
            **function_environment(stack.settings),
        }
        for function in functions().values():
            folder = BUILD / function.logical_id
            samples = sorted((ROOT / "events" / function.module.split(".")[1]).glob("*.json"))
            for sample in samples:
                run = subprocess.run(  # noqa: S603 - our own interpreter and files
                    [str(RUNTIME_PYTHON), "-c", RUNNER, str(folder), str(layer_dir() / "python"), str(sample)],
                    env=environment,
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
                line = next((x for x in run.stdout.splitlines() if x.startswith("BUILDCHECK ")), None)
                if run.returncode != 0 or line is None:
                    print(f"FAIL {function.logical_id} {sample.name}: {run.stderr.strip().splitlines()[-1:]}")
                    ok = False
                    continue
                report = json.loads(line.removeprefix("BUILDCHECK "))
                status = report["result"].get("statusCode", 200)
                expected = EXPECTED.get(sample.name)
                good = status == expected if expected else status < 500
                print(f"{'ok  ' if good else 'FAIL'} {function.logical_id:<20} {sample.name:<45} {status}")
                ok &= good
    finally:
        stack.stop()
    return ok


def main(argv: list[str]) -> int:
    ok = check_layer()
    if ok and "--invoke" in argv:
        ok = invoke_samples()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
