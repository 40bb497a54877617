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


def publish_for_provider(
    provider: str, counts: Mapping[str, int | float], seconds: Mapping[str, float] | None = None
) -> None:
    """One EMF record of metrics with the `provider` dimension (alarms per provider need it)."""
    record = EphemeralMetrics()
    record.add_dimension(name="provider", value=provider)
    for name, value in counts.items():
        record.add_metric(name=name, unit=MetricUnit.Count, value=value)
    for name, value in (seconds or {}).items():
        record.add_metric(name=name, unit=MetricUnit.Seconds, value=value)
    record.flush_metrics()
