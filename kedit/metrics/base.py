"""The metric registry.

``METRICS`` holds what a spec, a report and ``kedit diff`` need to know of each metric (name,
direction, description: :mod:`kedit.metrics.catalog`) and the module that computes it, which
:func:`get_metric` imports on first use, so checking specs and comparing reports needs no
engine. That module registers the metric's :class:`Metric` with :func:`register_metric`.

A metric may look at the unedited model (``before``) and is computed on the edited one
(``after``); it returns named values, the first named like the metric: a float, or a
:class:`PerEdit` where the value is a mean over the batch's edits (reports then give its
n and a bootstrap interval over edits, :mod:`kedit.report.interval`). A metric that
scores text rows declares them (``rows``): the caller scores every chosen metric's rows
together first (:func:`kedit.metrics.scoring.observe`) and hands each metric the
:class:`~kedit.metrics.scoring.Observed` phase, where it reads its rows' scores. Each metric
is declared with ``higher_is_better`` so reports and ``kedit diff`` know which way is up.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kedit.registry import Registry


@dataclass(frozen=True)
class EvalContext:
    """What a metric may use besides the model: the edited layers of the method under test."""

    edit_layers: tuple[int, ...] = ()
    templates: tuple[str, ...] = ("{}",)


@dataclass(frozen=True)
class PerEdit:
    """A metric value that is a mean over the batch's edits, with each edit's score.

    ``scores``: one per edit, in the order of the requests scored; None where an edit has no
    data (a request without paraphrase prompts, or without an old object). ``weights``: where
    the value pools prompts rather than edits (specificity), each edit's number of prompts,
    so that ``value`` = sum(w * s) / sum(w); None where every edit weighs the same."""

    value: float
    scores: tuple[float | None, ...]
    weights: tuple[int, ...] | None = None

    @classmethod
    def mean_of(cls, scores: Iterable[float | None]) -> PerEdit:
        """The mean over the edits that have a score (NaN if none has one)."""
        scores = tuple(scores)
        return cls(mean(s for s in scores if s is not None), scores)


def value_of(v: float | PerEdit) -> float:
    """A metric's value, whether or not it came with per-edit scores."""
    return v.value if isinstance(v, PerEdit) else v


@dataclass(frozen=True)
class Output:
    """A named value a metric reports besides its own (``akd_collisions``): what it means,
    and whether it counts something (reports print it as an integer)."""

    description: str
    count: bool = False


@dataclass(frozen=True)
class Metric:
    """How a declared metric is computed (its direction and description: ``METRICS[name]``)."""

    name: str
    after: Callable  # (seen: Observed, requests, ectx, before_state) -> dict[str, float]
    before: Callable | None = None  # (seen: Observed, requests, ectx) -> state
    rows: Callable | None = None  # (requests) -> the TextRows it scores, before and after
    before_reads_context: bool = False  # whether ``before`` depends on the EvalContext (else it is shared by all methods)


@dataclass(frozen=True)
class MetricInfo:
    """A metric as specs and reports know it, without the engine."""

    name: str
    higher_is_better: bool
    description: str
    module: str  # computes it: imported by :func:`get_metric`, it registers the metric's :class:`Metric`
    outputs: tuple[tuple[str, Output], ...] = ()  # (name pattern, e.g. "akd_layer_*"; what it is) for its other values

    def describe(self, name: str) -> Output | None:
        """What the value ``name`` this metric returns is: the metric itself, or one of its outputs."""
        if name == self.name:
            return Output(self.description)
        return next((out for pattern, out in self.outputs if fnmatch.fnmatchcase(name, pattern)), None)


METRICS: Registry[MetricInfo] = Registry("metric")
_COMPUTED: Registry[Metric] = Registry("computed metric")


def declare_metric(name: str, higher_is_better: bool, description: str, module: str, outputs: dict[str, Output] | None = None) -> MetricInfo:
    """Make ``name`` a metric a spec may ask for, computed by ``module``, with what its other
    values (``outputs``, by name pattern) are; a name is taken once."""
    return METRICS.add(name, MetricInfo(name=name, higher_is_better=higher_is_better, description=description, module=module, outputs=tuple((outputs or {}).items())))


def register_metric(name: str, before: Callable | None = None, rows: Callable | None = None, before_reads_context: bool = False):
    """Decorator: ``after`` computes the declared metric ``name`` (declared first: its direction
    and description live in ``METRICS``)."""
    METRICS[name]  # an undeclared name is refused here, when its module is imported

    def wrap(after):
        _COMPUTED.add(name, Metric(name=name, after=after, before=before, rows=rows, before_reads_context=before_reads_context))
        return after

    return wrap


def get_metric(name: str) -> Metric:
    """The metric ``name`` ready to compute (its module imported: the engine)."""
    importlib.import_module(METRICS[name].module)
    return _COMPUTED[name]


def mean(xs) -> float:
    xs = list(xs)
    return float(sum(xs) / len(xs)) if xs else float("nan")
