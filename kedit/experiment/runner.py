"""``kedit run``: execute a resolved spec batch by batch and write a versioned report.

Each finished cell is written at once (:mod:`kedit.experiment.store`); its key hashes
everything its result depends on, so an interrupted run resumes from the finished cells
while a changed spec or a changed kedit never reuses a stale one. The methods of one batch
get their target values from one joint optimisation where they agree on how values are
optimised, and a group of facts met again in a later batch or seed keeps its value
(:mod:`kedit.editing.shared_values`; a value's setup includes its context templates, so only
seed-independent values are shared across seeds).
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path

from kedit.editing.preserve import PreserveError
from kedit.editing.values import NonFiniteError
from kedit.experiment.cell import Cell, CellRecord
from kedit.experiment.data import Dataset, materialise
from kedit.experiment.errors import RunError
from kedit.experiment.evaluate import (
    BeforeStates,
    Scores,
    edit_and_evaluate,
    edit_sequentially,
)
from kedit.experiment.leakage import check_no_leaks
from kedit.experiment.plan import Batch, check_sizes, plan
from kedit.experiment.store import CellStore
from kedit.methods import EditContext, StatsSettings, value_store
from kedit.metrics import get_metric
from kedit.models import ArchitectureError, ModelLoadError, check_device, load_model
from kedit.models.offload import OffloadError
from kedit.provenance import code_fingerprint
from kedit.report.build import build_report, write_report
from kedit.spec.model import Spec
from kedit.stats.corpus import CorpusError, get_corpus
from kedit.stats.precision import resolve
from kedit.util import WriteError, sha256

log = logging.getLogger(__name__)


def run_spec(spec: Spec, out: Path | None = None, resume: bool = True, echo=print) -> Path:
    """Run every cell of ``spec`` not finished already; returns the report directory.

    The directory is locked for the run (:class:`CellStore`); a file that cannot be written
    (disk full, no permission) is a :class:`RunError` naming it, the finished cells kept."""
    started = time.perf_counter()
    if spec.model.device_map is None:  # before the data is built: a machine without the device can do nothing
        _input(check_device, spec.model.device, prefix="model.device: ")
    with CellStore(out or Path(spec.report.out) / f"{spec.name}-{sha256(spec.resolved())[:12]}") as store:
        try:
            _run(spec, store, resume, echo, started)
        except WriteError as e:
            kept = store.finished()
            raise RunError(
                f"cannot write {e.filename}: {e.strerror}; "
                + (f"the {kept} finished cell(s) are kept in {store.folder} and a rerun resumes from them" if kept else "no cell had finished")
            ) from None
    return store.root


def _run(spec: Spec, store: CellStore, resume: bool, echo, started: float) -> None:
    timings = {}
    with _timed(timings, "data_s"):
        data = {name: materialise(name, cfg, Path(spec.source).parent) for name, cfg in spec.datasets.items()}
        check_sizes(spec, data)
    with _timed(timings, "load_s"):
        loaded = _input(load_model, **asdict(spec.model))  # the model section's fields are load_model's arguments
        corpus = _input(get_corpus, spec.statistics.corpus)
    spec = resolved_precision(spec, loaded)
    check_layers(spec, loaded.n_layers)
    batches = plan(spec, data, {"code": code_fingerprint(), "model": loaded.fingerprint, "corpus": corpus.fingerprint})
    check_no_leaks(_fitted_batches(batches, data))
    cells = [c for b in batches for c in b.cells]
    # runs that differ only in their label (a sweep's point and a single entry of the same
    # config) share a key: the cell is computed once and reported under each label
    keys = list(dict.fromkeys(c.key for c in cells))
    done = {c.key: r for c in cells if resume and (r := store.read(c)) is not None}
    resumed = len(done)
    if resumed:
        echo(f"resuming {store.root}: {resumed} of {len(keys)} cells already finished")
    session = Session(spec, loaded, StatsSettings(**asdict(spec.statistics) | {"corpus": corpus}), data, store, echo, keys)
    for batch in batches:
        todo = [c for c in _first_of_each_key(batch.cells) if c.key not in done]
        done |= {r.key: r for r in session.run_batch(batch, todo)}
    timings |= {"statistics_s": session.stats_seconds, "total_s": time.perf_counter() - started}
    view = build_report(spec, data, loaded, corpus, [done[c.key].labelled(c.method.label) for c in cells], timings, resumed=resumed)
    write_report(view, store.root, spec.report.formats)
    if others := store.others(keys):  # kept: nothing computed is deleted, but the report must not look like theirs
        echo(f"{len(others)} cell file(s) in {store.folder} belong to no cell of this run (another spec or kedit version, e.g. {others[0].name}); "
             "the report leaves them out: delete them if they are not needed")


class Session:
    """What the batches of one run share: the loaded model, one :class:`EditContext` per seed,
    one store of target values (unless sequential editing changes the weights between
    batches), the chosen metrics, the cell store and the console."""

    def __init__(self, spec: Spec, loaded, stats: StatsSettings, data: dict[str, Dataset], store: CellStore, echo, order: list[str]):
        rt = spec.runtime
        self.spec, self.loaded, self.stats, self.data, self.store, self.echo = spec, loaded, stats, data, store, echo
        self.metrics = [get_metric(m) for m in spec.metrics]
        self.values = value_store(loaded, keep=not spec.sequential, optimiser=rt.value_optimiser, tokens_per_pass=rt.tokens_per_pass, progress=rt.progress)
        self.contexts: dict[int, EditContext] = {}
        self.number = {key: n for n, key in enumerate(order, 1)}
        # every method's statistics in one pass over the corpus (to the deepest layer), not one pass per method
        self.statistics_layers = sorted({layer for m in spec.methods for layer in m.config.statistics_layers()})

    @property
    def stats_seconds(self) -> float:
        """Seconds spent computing (or loading) second moments, over every seed's context."""
        return sum(ctx.stats_seconds for ctx in self.contexts.values())

    def context(self, seed: int) -> EditContext:
        if seed not in self.contexts:
            self.contexts[seed] = EditContext(self.loaded, self.stats, seed=seed, values=self.values, progress=self.spec.runtime.progress)
        return self.contexts[seed]

    def run_batch(self, batch: Batch, todo: list[Cell]) -> list[CellRecord]:
        """Run the cells ``todo`` of ``batch``; each record is written the moment its cell finishes."""
        if not todo:
            return []
        ctx = self.context(batch.seed)
        try:
            ctx.second_moments(self.statistics_layers)
        except NonFiniteError as e:  # the model overflows in its dtype on the corpus
            raise RunError(f"second-moment statistics: {e}") from None
        requests = self.data[batch.dataset].requests
        if not self.spec.sequential:  # the values the batch's methods will ask for, optimised together
            rows = [requests[i] for i in todo[0].rows]
            try:
                self.values.compute([job for c in todo if (job := c.method.config.value_job(ctx, rows)) is not None])
            except (NonFiniteError, CorpusError) as e:  # each cell asks again and names the error as its own
                log.info("values of the batch could not be optimised together: %s", e)
        before = BeforeStates()
        return [self.run_cell(ctx, cell, requests, before) for cell in todo]

    def run_cell(self, ctx: EditContext, cell: Cell, requests, before: BeforeStates) -> CellRecord:
        t0 = time.perf_counter()
        try:
            if self.spec.sequential:
                scores = edit_sequentially(ctx, cell.method, [[requests[i] for i in batch] for batch in cell.chain], self.metrics)
            else:
                scores = edit_and_evaluate(ctx, cell.method, [requests[i] for i in cell.rows], self.metrics, before)
        except (OffloadError, NonFiniteError, PreserveError, CorpusError) as e:  # finished cells stay on disk for a resumed run
            raise RunError(f"{cell.method.label}: {e}") from None
        wall = time.perf_counter() - t0 + scores.info.get("values_ahead_s", 0.0)  # with its share of values optimised ahead of it
        timings = scores.timings | {"wall_s": wall}
        record = CellRecord.of(cell, scores.metrics, scores.per_edit, timings, scores.info, scores.steps)
        self.store.write(record)
        self.echo(f"[{self.number[cell.key]}/{len(self.number)}] {cell.title}: {_shown(scores)} ({wall:.1f} s)")
        return record


def _first_of_each_key(cells: tuple[Cell, ...]) -> list[Cell]:
    """The cells in order, a cell whose key an earlier one has left out."""
    first: dict[str, Cell] = {}
    for c in cells:
        first.setdefault(c.key, c)
    return list(first.values())


def resolved_precision(spec: Spec, loaded) -> Spec:
    """``spec`` with its statistics precision resolved on the loaded model's device (``auto``
    becomes what it means there), so that cell keys and the report record what was run."""
    return replace(spec, statistics=replace(spec.statistics, precision=resolve(spec.statistics.precision, loaded.device).name))


def _shown(scores: Scores) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in scores.metrics.items() if k in ("efficacy", "paraphrase", "specificity", "akd") and not math.isnan(v))


def _fitted_batches(batches: list[Batch], data: dict[str, Dataset]):
    """Per batch: its requests, the KL prompts of its methods and how its rows are named (for :func:`check_no_leaks`)."""
    for b in batches:
        rows = b.cells[0].rows
        yield ([data[b.dataset].requests[i] for i in rows], [t for c in b.cells for t in c.method.config.fitted_templates()],
               lambda i, rows=rows, name=b.dataset: f"dataset {name!r} row {rows[i]}")


def check_layers(spec: Spec, n_layers: int) -> None:
    """Every layer a method reads or writes exists in the model."""
    for m in spec.methods:
        bad = [layer for layer in m.config.layers_used() if layer >= n_layers]
        if bad:
            raise RunError(f"methods[{m.entry}] ({m.label}): layer {bad[0]} is outside the model, which has layers 0..{n_layers - 1}")


def _input(load, *args, prefix: str = "", **kw):
    """``load(*args, **kw)``, with a model, architecture or corpus that cannot be had as a :class:`RunError`."""
    try:
        return load(*args, **kw)
    except (ModelLoadError, ArchitectureError, CorpusError) as e:
        raise RunError(f"{prefix}{e}") from None


@contextmanager
def _timed(timings: dict, name: str):
    t = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - t
