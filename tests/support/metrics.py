"""What the service counted in the current test: metrics still held (Powertools, cleared after each
test), and the EMF records a handler printed when it flushed them."""

from __future__ import annotations

import json

from textstatus.observability import metrics


def counted(name: str) -> float:
    """The sum of every value added to metric `name` and not yet flushed (0 if none)."""
    entry = metrics.metric_set.get(name)
    return float(sum(entry["Value"])) if entry else 0.0


def published(output: str, name: str) -> float:
    """The sum of metric `name` over the EMF records in captured standard output (0 if none)."""
    total = 0.0
    for line in output.splitlines():
        if line.startswith('{"_aws"'):
            value = json.loads(line).get(name, 0)
            total += sum(value) if isinstance(value, list) else value
    return total
