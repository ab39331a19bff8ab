"""``kedit run``: execute a resolved spec cell by cell and write a versioned report.

A cell is (dataset, method, batch size, batch index, seed). Each finished cell is written
to ``cells/<key>.json`` at once (atomically); its key hashes everything its result depends
on (the spec's part, the model, the data, and kedit's own code), so an interrupted run
resumes from the finished cells while a changed spec or a changed kedit never reuses a
stale one. The report directory is named after the spec and the hash of its resolved form.
The methods of one batch get their target values from one joint optimisation where they
agree on how values are optimised, and a group of facts met again in a later batch (or seed)
keeps its value (:mod:`kedit.editing.shared_values`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from functools import cache
from itertools import groupby
from pathlib import Path

from kedit import __version__
from kedit.spec.model import Spec

log = logging.getLogger(__name__)


class RunError(Exception):
    """A run that cannot start or continue; the message names the place (exit code 2)."""


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sha256(value) -> str:
    return hashlib.sha256((value if isinstance(value, str) else canonical(value)).encode()).hexdigest()


@cache
def code_fingerprint() -> str:
    """SHA-256 of kedit's own code and tables (every .py and .yaml file of the package).

    Part of every cell key: an edited checkout has the same version number but may give
    other results, so its cells are not reused.
    """
    root = Path(__file__).parent
    files = sorted(p for p in root.rglob("*") if p.suffix in (".py", ".yaml") and p.is_file())
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return digest.hexdigest()


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@dataclass
class Materialised:
    """One dataset of the spec, ready to edit."""

    name: str
    rows: list[dict]
    fingerprint: str
    provenance: dict


def materialise(name: str, cfg: dict, spec_dir: Path) -> Materialised:
    """Build (Wikidata) or read (local file) a dataset; errors name the spec key."""
    from kedit.data.errors import DataError

    try:
        if "file" in cfg:
            from kedit.data.formats import convert_rows
            from kedit.data.store import load_rows  # imports `datasets` (~1 s): only where a file is read

            path = (spec_dir / cfg["file"]).resolve()
            rows, fmt, skipped = convert_rows(load_rows(path), cfg.get("format", "auto"))
            provenance = {"source": "file", "path": str(path), "format": fmt, "rows_skipped": skipped}
        else:
            from kedit.data.builder import build_dataset

            built = build_dataset(cfg["wikidata"])
            rows, provenance = built.rows, built.provenance
    except DataError as e:
        raise RunError(f"dataset {name!r}: {e}") from None
    if cfg.get("limit"):
        rows = rows[: cfg["limit"]]
    return Materialised(name=name, rows=rows, fingerprint=sha256(rows), provenance=provenance)


def batches(n_rows: int, size: int | str, count: int, seed: int) -> list[list[int]]:
    """``count`` disjoint batches of ``size`` row indices, drawn with ``seed`` (``"all"``: every row)."""
    if size == "all":
        return [list(range(n_rows))]
    order = list(range(n_rows))
    random.Random(f"kedit-batches:{seed}").shuffle(order)
    return [sorted(order[k * size : (k + 1) * size]) for k in range(count)]


def check_sizes(spec: Spec, data: dict[str, Materialised]) -> None:
    for ds in data.values():
        n = len(ds.rows)
        if n == 0:
            raise RunError(f"dataset {ds.name!r} has no rows")
        for size in spec.batch_sizes:
            if size != "all" and size * spec.batches_per_size > n:
                what = f"{spec.batches_per_size} batches of {size}" if spec.batches_per_size > 1 else f"batch size {size}"
                raise RunError(f"batch_sizes: {what} need {size * spec.batches_per_size} rows but dataset {ds.name!r} has {n}")


def check_layers(spec: Spec, n_layers: int) -> None:
    for i, m in enumerate(spec.methods):
        layers = list(m.hparams.get("layers") or [])
        for key in ("layer", "v_loss_layer"):
            if m.hparams.get(key) is not None:
                layers.append(m.hparams[key])
        bad = [layer for layer in layers if layer >= n_layers]
        if bad:
            raise RunError(f"methods[{i}] ({m.label}): layer {bad[0]} is outside the model, which has layers 0..{n_layers - 1}")


def report_dir(spec: Spec, out: Path | None) -> Path:
    """``--out`` if given, else ``<report.out>/<name>-<first 12 hex of the resolved spec's sha256>``."""
    path = out or Path(spec.report.out) / f"{spec.name}-{sha256(spec.resolved())[:12]}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise RunError(f"report directory {path} is not writable: {e.strerror or e}") from None
    return path


def run_spec(spec: Spec, out: Path | None = None, resume: bool = True, echo=print) -> Path:
    """Run every cell of ``spec``; returns the report directory."""
    from kedit.stats.corpus import CorpusError, get_corpus
    from kedit.editing.requests import RequestError, make_requests
    from kedit.editing.values import NonFiniteError
    from kedit.evaluate import prefetch_values
    from kedit.methods import EditContext, StatsSettings
    from kedit.models import ArchitectureError, ModelLoadError, check_device, load_model
    from kedit.report.build import build_report, write_report

    started = time.perf_counter()
    if spec.model.device_map is None:
        try:  # before the data is built: a machine without the device can do nothing
            check_device(spec.model.device)
        except ModelLoadError as e:
            raise RunError(f"model.device: {e}") from None
    where = report_dir(spec, out)
    cells_dir = where / "cells"
    timings: dict[str, float] = {}

    t = time.perf_counter()
    spec_dir = Path(spec.source).parent
    data = {name: materialise(name, cfg, spec_dir) for name, cfg in spec.datasets.items()}
    check_sizes(spec, data)
    requests = {}
    for name, ds in data.items():
        try:
            requests[name] = make_requests(ds.rows)
        except RequestError as e:
            raise RunError(f"dataset {name!r}: {e}") from None
    timings["data_s"] = time.perf_counter() - t

    t = time.perf_counter()
    try:
        loaded = load_model(**asdict(spec.model))  # the model section's fields are load_model's arguments
        corpus = get_corpus(spec.statistics.corpus)
    except (ModelLoadError, ArchitectureError, CorpusError) as e:
        raise RunError(str(e)) from None
    check_layers(spec, loaded.n_layers)
    timings["load_s"] = time.perf_counter() - t
    stats = StatsSettings(corpus=corpus, n_samples=spec.statistics.n_samples, max_length=spec.statistics.max_length, batch_size=spec.statistics.batch_size)

    plan = []
    for seed in spec.seeds:
        for name, ds in data.items():
            for size in spec.batch_sizes:
                drawn = batches(len(ds.rows), size, spec.batches_per_size, seed)
                # sequential: one cell streams every batch; else one cell per batch
                units = [(0, drawn)] if spec.sequential else [(b, [idx]) for b, idx in enumerate(drawn)]
                for b, chain in units:
                    for m in spec.methods:
                        key = sha256(
                            {
                                "kedit": __version__,
                                "code": code_fingerprint(),
                                "model": loaded.fingerprint,
                                "dtype": spec.model.dtype,
                                "rows": [sha256([ds.rows[i] for i in idx]) for idx in chain],
                                "sequential": spec.sequential,
                                "method": m.name,
                                "hparams": m.hparams,
                                "seed": seed,
                                "metrics": spec.metrics,
                                "statistics": asdict(spec.statistics) | {"corpus_fingerprint": corpus.fingerprint},
                            }
                        )[:24]
                        plan.append(dict(key=key, dataset=name, method=m.name, label=m.label, hparams=m.hparams, batch_size=len(chain[0]),
                                         batch_spec=size, batch_index=b, seed=seed, rows=[i for idx in chain for i in idx], chain=chain))
    done = {p["key"] for p in plan if (cells_dir / f"{p['key']}.json").exists()} if resume else set()
    if done:
        echo(f"resuming {where}: {len(done)} of {len(plan)} cells already finished")

    contexts: dict[int, EditContext] = {}
    before_states: dict = {}  # metrics' looks at the unedited model, shared by the cells of one batch
    stats_s = 0.0
    number = {p["key"]: n for n, p in enumerate(plan, 1)}
    pending = [p for p in plan if p["key"] not in done]
    shared = None  # target values, shared by the contexts of every seed (a value's setup includes its context templates)
    with ExitStack() as scope:
        for (seed, dataset, _), batch_cells in groupby(pending, key=lambda p: (p["seed"], p["dataset"], tuple(p["rows"]))):
            batch_cells = list(batch_cells)  # the cells of one batch (every method on the same rows) are consecutive in the plan
            if seed not in contexts:
                contexts[seed] = EditContext(
                    loaded, stats, seed=seed, tokens_per_pass=spec.runtime.tokens_per_pass, progress=spec.runtime.progress, value_optimiser=spec.runtime.value_optimiser
                )
                if not spec.sequential:  # every cell restores the model after scoring: a target value stays valid all run
                    shared = scope.enter_context(contexts[seed].sharing_values(shared))
            ctx = contexts[seed]
            reqs = requests[dataset]
            if not spec.sequential:  # the values the batch's methods will ask for, optimised together
                try:
                    prefetch_values(ctx, [(c["method"], c["hparams"]) for c in batch_cells], [reqs[i] for i in batch_cells[0]["rows"]])
                except NonFiniteError as e:  # each cell asks again and names the error as its own
                    log.info("values of the batch could not be optimised together: %s", e)
            for cell in batch_cells:
                stats_s += _run_cell(spec, ctx, cell, reqs, cells_dir / f"{cell['key']}.json", before_states, f"[{number[cell['key']]}/{len(plan)}]", echo)
    timings["statistics_s"] = stats_s
    cells = [json.loads((cells_dir / f"{p['key']}.json").read_text()) for p in plan]
    timings["total_s"] = time.perf_counter() - started
    report = build_report(spec, data, loaded, corpus, cells, timings, resumed=len(done))
    write_report(report, where, spec.report.formats)
    return where


def _run_cell(spec: Spec, ctx, cell: dict, reqs: list, path: Path, before_states: dict, tag: str, echo) -> float:
    """Run one cell and write its record to ``path``; returns the seconds it spent on statistics."""
    from kedit.editing.values import NonFiniteError
    from kedit.evaluate import edit_and_evaluate, edit_sequentially
    from kedit.models.offload import OffloadError

    t0 = time.perf_counter()
    before_stats = ctx.stats_seconds
    extra = {}
    try:
        if spec.sequential:
            result = edit_sequentially(ctx, cell["method"], cell["hparams"], [[reqs[i] for i in idx] for idx in cell["chain"]], spec.metrics)
            cell_timings = {"edit_s": sum(s["edit_s"] for s in result.steps)}
            extra = {"steps": result.steps, "batches": cell["chain"]}
            info = result.steps[-1]["info"]
        else:
            result = edit_and_evaluate(ctx, cell["method"], cell["hparams"], [reqs[i] for i in cell["rows"]], spec.metrics, before_cache=before_states)
            cell_timings, info = result.timings, result.info
    except (OffloadError, NonFiniteError) as e:  # finished cells stay on disk for a resumed run
        raise RunError(f"{cell['label']}: {e}") from None
    wall = time.perf_counter() - t0 + info.get("values_ahead_s", 0.0)  # with its share of values optimised ahead of it
    stats_s = ctx.stats_seconds - before_stats
    record = {k: v for k, v in cell.items() if k != "chain"} | extra | {
        "metrics": {k: None if v != v else v for k, v in result.metrics.items()},  # NaN (no data) -> null
        "timings": cell_timings | {"wall_s": wall, "statistics_s": stats_s},
        "info": info,
    }
    write_atomic(path, json.dumps(record, indent=1, default=float) + "\n")
    shown = ", ".join(f"{k} {v:.3f}" for k, v in result.metrics.items() if k in ("efficacy", "paraphrase", "specificity", "akd") and v == v)
    echo(f"{tag} {cell['dataset']} | {cell['label']} | batch {cell['batch_size']} #{cell['batch_index']} | seed {cell['seed']}: {shown} ({wall:.1f} s)")
    return stats_s
