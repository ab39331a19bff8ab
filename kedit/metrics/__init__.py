"""Metrics. Importing this package registers every metric in ``METRICS``."""

from kedit.metrics import akd, rewrite  # noqa: F401  (register the metrics)
from kedit.metrics.base import METRICS, EvalContext, Metric, get_metric, register_metric

DEFAULT_METRICS = ("efficacy", "paraphrase", "specificity", "efficacy_prob", "akd")

__all__ = ["METRICS", "DEFAULT_METRICS", "EvalContext", "Metric", "get_metric", "register_metric"]
