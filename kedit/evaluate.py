"""Edit a batch with one method, score it with the chosen metrics, and (by default) undo the edit.

This is one cell of a report: (method, batch). The same loaded model serves every cell
because the weights are restored bit-exactly afterwards.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from kedit.editing.requests import EditRequest
from kedit.methods import EditContext, apply_edit, get_method, make_config, restore
from kedit.metrics import EvalContext, get_metric


@dataclass
class CellResult:
    method: str
    n_requests: int
    metrics: dict[str, float]
    timings: dict[str, float]
    info: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)


def edit_and_evaluate(
    ctx: EditContext, method_name: str, hparams: dict | None, requests: list[EditRequest], metrics: list[str], restore_weights: bool = True
) -> CellResult:
    method = get_method(method_name)
    cfg = make_config(method, hparams)
    chosen = [get_metric(m) for m in metrics]
    layers = tuple(getattr(cfg, "layers", ()))
    ectx = EvalContext(edit_layers=layers, templates=tuple(ctx.templates(getattr(cfg, "context_tokens", 0))))
    loaded = ctx.loaded
    timings = {}
    t = time.perf_counter()
    before = {m.name: m.before(loaded, requests, ectx) for m in chosen if m.before is not None}
    timings["before_s"] = time.perf_counter() - t
    t = time.perf_counter()
    edit = method.compute(ctx, requests, cfg)
    timings["edit_s"] = time.perf_counter() - t
    originals = apply_edit(loaded, edit)
    try:
        t = time.perf_counter()
        scores: dict[str, float] = {}
        for m in chosen:
            scores |= m.after(loaded, requests, ectx, before.get(m.name))
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
    before = [{m.name: m.before(loaded, b, ectx) for m in chosen if m.before is not None} for b in batches]
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
            score = lambda reqs, state: {k2: v for m in chosen for k2, v in m.after(loaded, reqs, ectx, state.get(m.name)).items()}  # noqa: E731
            steps.append({"step": k, "edit_s": edit_s, "metrics": score(batch, before[k]), "first_batch": score(batches[0], before[0]), "info": edit.info})
    finally:
        restore(loaded, pristine)
        ctx.earlier.clear()
    return SequenceResult(method=method_name, steps=steps, config=asdict(cfg))
