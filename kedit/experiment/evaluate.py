"""Edit a batch with one method, score it with the chosen metrics, and undo the edit.

In each phase (the unedited model, the edited one) the text rows of every chosen metric are
scored together first (:func:`kedit.metrics.scoring.observe`); the metrics then read their
scores from that phase. The unedited model's looks can be shared by the methods of a batch
(:class:`BeforeStates`), since the weights are restored bit-exactly after every edit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from kedit.editing.requests import EditRequest
from kedit.experiment.cell import FIRST_BATCH
from kedit.methods import EditContext, MethodRun, apply_edit, restore
from kedit.metrics import EvalContext, Metric, PerEdit, value_of
from kedit.metrics.scoring import Observed, observe


def eval_context(ctx: EditContext, method: MethodRun) -> EvalContext:
    """What the metrics may know of the method under test: its layers and context templates."""
    return EvalContext(edit_layers=tuple(method.config.layers), templates=tuple(ctx.templates(method.config.context_tokens, method.config.context_source)))


def observe_for(loaded, metrics: list[Metric], requests: list[EditRequest]) -> Observed:
    """The model as ``metrics`` see it now: every row they score on ``requests``, scored together."""
    return observe(loaded, [row for m in metrics if m.rows is not None for row in m.rows(requests)])


class BeforeStates:
    """Each metric's look at the unedited model, kept across the cells of a batch: keyed by
    (metric, the EvalContext where the metric reads it, requests), so methods that edit other
    layers share what does not depend on them. Valid only while the model is the unedited one."""

    def __init__(self):
        self._states: dict[tuple, object] = {}

    def get(self, loaded, metrics: list[Metric], requests: list[EditRequest], ectx: EvalContext) -> dict:
        key = lambda m: (m.name, ectx if m.before_reads_context else None, tuple(requests))  # noqa: E731
        missing = [m for m in metrics if m.before is not None and key(m) not in self._states]
        if missing:
            seen = observe_for(loaded, missing, requests)
            self._states |= {key(m): m.before(seen, requests, ectx) for m in missing}
        return {m.name: self._states[key(m)] for m in metrics if m.before is not None}


def scores_after(loaded, metrics: list[Metric], requests: list[EditRequest], ectx: EvalContext, before: dict) -> dict[str, float | PerEdit]:
    """Every metric's values on the model as it is now, given its look at the unedited one
    (a :class:`PerEdit` where a value is a mean over the edits of ``requests``)."""
    seen = observe_for(loaded, metrics, requests)
    return {k: v for m in metrics for k, v in m.after(seen, requests, ectx, before.get(m.name)).items()}


@dataclass
class Scores:
    """A cell's metrics, timings and what the method measured; ``per_edit``: the per-edit scores
    of the metrics that are means over edits; ``steps``: sequential editing's per-step record."""

    metrics: dict[str, float]
    timings: dict[str, float]
    info: dict = field(default_factory=dict)
    steps: list[dict] | None = None
    per_edit: dict[str, PerEdit] = field(default_factory=dict)

    @classmethod
    def of(cls, values: dict[str, float | PerEdit], timings: dict[str, float], info: dict, steps: list[dict] | None = None) -> Scores:
        """Split ``values`` (as :func:`scores_after` gives them) into plain metrics and per-edit scores."""
        per_edit = {k: v for k, v in values.items() if isinstance(v, PerEdit)}
        return cls({k: value_of(v) for k, v in values.items()}, timings, info, steps, per_edit)


def edit_and_evaluate(ctx: EditContext, method: MethodRun, requests: list[EditRequest], metrics: list[Metric], before: BeforeStates | None = None) -> Scores:
    """Edit ``requests`` with ``method``, score ``metrics`` and restore the weights."""
    ectx = eval_context(ctx, method)
    loaded = ctx.loaded
    timings = {}
    t = time.perf_counter()
    states = (before or BeforeStates()).get(loaded, metrics, requests, ectx)
    timings["before_s"] = time.perf_counter() - t
    t = time.perf_counter()
    edit = method.method.compute(ctx, requests, method.config)
    timings["edit_s"] = time.perf_counter() - t + edit.info.get("values_ahead_s", 0.0)  # its share of values optimised before it ran
    originals = apply_edit(loaded, edit)
    try:
        t = time.perf_counter()
        scores = scores_after(loaded, metrics, requests, ectx, states)
        timings["evaluate_s"] = time.perf_counter() - t
    finally:
        restore(loaded, originals)
    return Scores.of(scores, timings, edit.info)


def edit_sequentially(ctx: EditContext, method: MethodRun, batches: list[list[EditRequest]], metrics: list[Metric]) -> Scores:
    """Apply ``batches`` one after another (a stream of edits), each solve keeping the keys of the
    edits before it; after each step score that batch and the first one. The model is restored
    at the end. Metrics: the last batch's after the last step, and the first batch's as ``first_batch_*``
    (their per-edit scores in the order of the last batch's rows and of the first's)."""
    ectx = eval_context(ctx, method)
    loaded = ctx.loaded
    before = [BeforeStates().get(loaded, metrics, b, ectx) for b in batches]  # from the unedited model, for every batch
    pristine: dict = {}
    steps = []
    try:
        for k, batch in enumerate(batches):
            t = time.perf_counter()
            edit = method.method.compute(ctx, batch, method.config)
            for path, w in apply_edit(loaded, edit).items():
                pristine.setdefault(path, w)
            ctx.remember(edit.keys)
            edit_s = time.perf_counter() - t
            scores = scores_after(loaded, metrics, batch, ectx, before[k])
            first = scores if k == 0 else scores_after(loaded, metrics, batches[0], ectx, before[0])
            steps.append({"step": k, "edit_s": edit_s, "metrics": _values(scores), "first_batch": _values(first), "info": edit.info})
    finally:
        restore(loaded, pristine)
        ctx.forget()
    return Scores.of(scores | {f"{FIRST_BATCH}{k}": v for k, v in first.items()}, {"edit_s": sum(s["edit_s"] for s in steps)}, edit.info, steps)


def _values(scores: dict[str, float | PerEdit]) -> dict[str, float]:
    return {k: value_of(v) for k, v in scores.items()}
