"""Metrics. Importing this package declares every metric in ``METRICS`` (:mod:`kedit.metrics.catalog`)
and imports no engine; :func:`get_metric` imports the module that computes one."""

from kedit.metrics import catalog  # noqa: F401  (declare the metrics)
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
