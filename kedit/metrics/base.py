"""The metric registry.

A metric may look at the unedited model (``before``) and is computed on the edited one
(``after``); it returns named scalars, the first named like the metric. A metric that
scores text rows declares them (``rows``): the caller scores every chosen metric's rows
together first (:func:`kedit.metrics.scoring.observe`) and hands each metric the
:class:`~kedit.metrics.scoring.Observed` phase, where it reads its rows' scores. Each metric
is registered with ``higher_is_better`` so reports and ``kedit diff`` know which way is up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kedit.registry import Registry


@dataclass(frozen=True)
class EvalContext:
    """What a metric may use besides the model: the edited layers of the method under test."""

    edit_layers: tuple[int, ...] = ()
    templates: tuple[str, ...] = ("{}",)


@dataclass(frozen=True)
class Metric:
    name: str
    higher_is_better: bool
    description: str
    after: Callable  # (seen: Observed, requests, ectx, before_state) -> dict[str, float]
    before: Callable | None = None  # (seen: Observed, requests, ectx) -> state
    rows: Callable | None = None  # (requests) -> the TextRows it scores, before and after
    before_reads_context: bool = False  # whether ``before`` depends on the EvalContext (else it is shared by all methods)


METRICS: Registry[Metric] = Registry("metric")


def register_metric(name: str, higher_is_better: bool, description: str, before: Callable | None = None, rows: Callable | None = None,
                    before_reads_context: bool = False):
    def wrap(after):
        METRICS.add(name, Metric(name=name, higher_is_better=higher_is_better, description=description, after=after, before=before, rows=rows,
                                 before_reads_context=before_reads_context))
        return after

    return wrap


def get_metric(name: str) -> Metric:
    return METRICS[name]


def mean(xs) -> float:
    xs = list(xs)
    return float(sum(xs) / len(xs)) if xs else float("nan")
