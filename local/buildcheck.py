"""Checks on the built artifacts in .aws-sam/build: the layer's size and what it must not hold."""

from __future__ import annotations

import sys
from pathlib import Path

from local.template import ROOT

BUILD = ROOT / ".aws-sam" / "build"
LAYER_LIMIT_BYTES = 20 * 1024 * 1024
FORBIDDEN_IN_LAYER = ("boto3", "botocore")


def layer_dir() -> Path:
    return BUILD / "SharedLayer"


def unzipped_size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def main() -> int:
    layer = layer_dir()
    if not layer.is_dir():
        print("no built layer: run `make build` first", file=sys.stderr)
        return 2
    size = unzipped_size(layer)
    bundled = [name for name in FORBIDDEN_IN_LAYER if (layer / "python" / name).exists()]
    print(f"layer: {size / 1024 / 1024:.1f} MB unzipped (limit {LAYER_LIMIT_BYTES / 1024 / 1024:.0f} MB)")
    if bundled:
        print(f"layer bundles {', '.join(bundled)}: the Lambda runtime provides them", file=sys.stderr)
        return 1
    return 0 if size <= LAYER_LIMIT_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
