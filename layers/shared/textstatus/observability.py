"""Logger and Metrics, created once and shared by the layer and the functions.

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (set in the template and by the local stack).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

logger = Logger()
metrics = Metrics()


def count(name: str, value: int = 1) -> None:
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def publish(
    dimensions: Mapping[str, str], counts: Mapping[str, int | float], seconds: Mapping[str, float] | None = None
) -> None:
    """One EMF record with its own dimensions (per provider, per status, per reason), flushed now."""
    record = EphemeralMetrics()
    for dimension, label in dimensions.items():
        record.add_dimension(name=dimension, value=label)
    for name, value in counts.items():
        record.add_metric(name=name, unit=MetricUnit.Count, value=value)
    for name, value in (seconds or {}).items():
        record.add_metric(name=name, unit=MetricUnit.Seconds, value=value)
    record.flush_metrics()
