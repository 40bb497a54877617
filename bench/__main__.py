"""`make bench`: every benchmark, each printing its figure against its target.

`python -m bench throughput scaling` runs only those. Exits 1 when a target is missed.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings

import bench.harness  # noqa: F401 - puts the layer on the path first
from bench import coldstart, hotpath, notifications, poller

BENCHMARKS = {**hotpath.BENCHMARKS, **coldstart.BENCHMARKS, **poller.BENCHMARKS, **notifications.BENCHMARKS}


def main(names: list[str]) -> int:
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; one of: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    print(f"{'figure':<34} {'value':>8}  target", flush=True)
    results = []
    for name in names or BENCHMARKS:
        # The service's own output (EMF metrics, logs) is not the benchmark's: only reports show.
        with contextlib.redirect_stdout(io.StringIO()):
            results.append(BENCHMARKS[name]())
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
