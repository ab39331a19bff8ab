"""Edit a batch with one method, score it with the chosen metrics, and (by default) undo the edit.

This is one cell of a report: (method, batch). The same loaded model serves every cell
because the weights are restored bit-exactly afterwards. In each phase (before the edit,
after it) the text rows of every chosen metric are scored together.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from kedit.editing.requests import EditRequest
from kedit.methods import EditContext, apply_edit, get_method, make_config, restore
from kedit.methods.locate import LocateEditConfig
from kedit.metrics import EvalContext, Metric, get_metric
from kedit.metrics.scoring import scored_together


@dataclass
class CellResult:
    method: str
    n_requests: int
    metrics: dict[str, float]
    timings: dict[str, float]
    info: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)


def _rows(metrics: list[Metric], requests: list[EditRequest]) -> list:
    return [row for m in metrics if m.rows is not None for row in m.rows(requests)]


def states_before(loaded, metrics: list[Metric], requests: list[EditRequest], ectx: EvalContext, cache: dict | None = None) -> dict:
    """Each metric's look at the unedited model, by name.

    cache: states kept across calls, keyed by (metric, context if the metric reads it,
    requests), so methods that edit other layers share what does not depend on them; valid
    only while the model is the unedited one (``kedit run`` restores it after every cell).
    """
    key = lambda m: (m.name, ectx if m.before_reads_context else None, tuple(requests))  # noqa: E731
    cache = {} if cache is None else cache
    missing = [m for m in metrics if m.before is not None and key(m) not in cache]
    with scored_together(loaded, _rows(missing, requests)):
        cache |= {key(m): m.before(loaded, requests, ectx) for m in missing}
    return {m.name: cache[key(m)] for m in metrics if m.before is not None}


def scores_after(loaded, metrics: list[Metric], requests: list[EditRequest], ectx: EvalContext, before: dict) -> dict[str, float]:
    with scored_together(loaded, _rows(metrics, requests)):
        return {k: v for m in metrics for k, v in m.after(loaded, requests, ectx, before.get(m.name)).items()}


def prefetch_values(ctx: EditContext, methods: list[tuple[str, dict | None]], requests: list[EditRequest]) -> None:
    """Optimise together the target values that the MEMIT-family methods among ``methods``
    (name, hparams) will ask for on ``requests`` (inside ``ctx.sharing_values()``)."""
    configs = [make_config(get_method(name), hparams) for name, hparams in methods]
    ctx.prefetch_values([cfg.value_job(ctx, requests) for cfg in configs if isinstance(cfg, LocateEditConfig)])


def edit_and_evaluate(
    ctx: EditContext,
    method_name: str,
    hparams: dict | None,
    requests: list[EditRequest],
    metrics: list[str],
    restore_weights: bool = True,
    before_cache: dict | None = None,
) -> CellResult:
    """before_cache: see :func:`states_before`."""
    method = get_method(method_name)
    cfg = make_config(method, hparams)
    chosen = [get_metric(m) for m in metrics]
    layers = tuple(getattr(cfg, "layers", ()))
    ectx = EvalContext(edit_layers=layers, templates=tuple(ctx.templates(getattr(cfg, "context_tokens", 0))))
    loaded = ctx.loaded
    timings = {}
    t = time.perf_counter()
    before = states_before(loaded, chosen, requests, ectx, before_cache)
    timings["before_s"] = time.perf_counter() - t
    t = time.perf_counter()
    edit = method.compute(ctx, requests, cfg)
    timings["edit_s"] = time.perf_counter() - t + edit.info.get("values_ahead_s", 0.0)  # its share of values optimised before it ran
    originals = apply_edit(loaded, edit)
    try:
        t = time.perf_counter()
        scores = scores_after(loaded, chosen, requests, ectx, before)
        timings["evaluate_s"] = time.perf_counter() - t
    finally:
        if restore_weights:
            restore(loaded, originals)
    return CellResult(method=method_name, n_requests=len(requests), metrics=scores, timings=timings, info=edit.info, config=asdict(cfg))


@dataclass
class SequenceResult:
    """Sequential editing: per step, the metrics of the batch just edited and of the first batch."""

    method: str
    steps: list[dict]
    config: dict = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, float]:
        """The last batch's metrics after the last step, and the first batch's as ``first_batch_*``."""
        last = self.steps[-1]
        return last["metrics"] | {f"first_batch_{k}": v for k, v in last["first_batch"].items()}


def edit_sequentially(ctx: EditContext, method_name: str, hparams: dict | None, batches: list[list[EditRequest]], metrics: list[str]) -> SequenceResult:
    """Apply ``batches`` one after another (a stream of edits), each solve keeping the keys of the
    edits before it; after each step score that batch and the first one. The model is restored at the end."""
    method = get_method(method_name)
    cfg = make_config(method, hparams)
    chosen = [get_metric(m) for m in metrics]
    ectx = EvalContext(edit_layers=tuple(getattr(cfg, "layers", ())), templates=tuple(ctx.templates(getattr(cfg, "context_tokens", 0))))
    loaded = ctx.loaded
    # "before" states come from the unedited model, for every batch
    before = [states_before(loaded, chosen, b, ectx) for b in batches]
    pristine: dict = {}
    steps = []
    try:
        for k, batch in enumerate(batches):
            t = time.perf_counter()
            edit = method.compute(ctx, batch, cfg)
            for path, w in apply_edit(loaded, edit).items():
                pristine.setdefault(path, w)
            ctx.remember(edit)
            edit_s = time.perf_counter() - t
            scores = scores_after(loaded, chosen, batch, ectx, before[k])
            first = scores if k == 0 else scores_after(loaded, chosen, batches[0], ectx, before[0])
            steps.append({"step": k, "edit_s": edit_s, "metrics": scores, "first_batch": first, "info": edit.info})
    finally:
        restore(loaded, pristine)
        ctx.earlier.clear()
    return SequenceResult(method=method_name, steps=steps, config=asdict(cfg))
