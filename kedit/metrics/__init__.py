"""Metrics. Importing this package declares every metric in ``METRICS`` (:mod:`kedit.metrics.catalog`)
and imports no engine; :func:`get_metric` imports the module that computes one."""

from kedit.metrics import catalog  # noqa: F401  (declare the metrics)
from kedit.metrics.base import METRICS, EvalContext, Metric, get_metric, register_metric

DEFAULT_METRICS = ("efficacy", "paraphrase", "specificity", "efficacy_prob", "akd")

__all__ = ["METRICS", "DEFAULT_METRICS", "EvalContext", "Metric", "get_metric", "register_metric"]
