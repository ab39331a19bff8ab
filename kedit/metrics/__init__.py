"""Metrics. Importing this package registers every metric in ``METRICS``."""

from kedit.metrics import akd, rewrite  # noqa: F401  (register the metrics)
from kedit.metrics.base import (
    METRICS,
    EvalContext,
    Metric,
    Output,
    PerEdit,
    get_metric,
    register_metric,
    value_of,
)

DEFAULT_METRICS = ("efficacy", "paraphrase", "specificity", "efficacy_prob", "akd")

__all__ = ["DEFAULT_METRICS", "METRICS", "EvalContext", "Metric", "Output", "PerEdit", "get_metric", "register_metric", "value_of"]
