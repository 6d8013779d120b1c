"""One place for the layer's logger and metrics (Powertools), so every module logs the same structured way."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

# One logger per execution environment; the service name comes from POWERTOOLS_SERVICE_NAME.
logger = Logger()

_DEFAULT_NAMESPACE = "TrackedBedrock"


def new_metrics(operation: str) -> EphemeralMetrics:
    """Metrics for one invocation. Ephemeral (not the shared singleton) so invocations running side by side in
    threads never mix their dimensions."""
    metrics = EphemeralMetrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or _DEFAULT_NAMESPACE)
    metrics.add_dimension(name="operation", value=operation)
    return metrics


__all__ = ["MetricUnit", "logger", "new_metrics"]
