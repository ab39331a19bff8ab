"""The cells of a spec, in batches: every method of a batch edits the same rows, so the
batch's target values are optimised together and the unedited model's looks are shared."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from kedit import __version__
from kedit.experiment.cell import Cell
from kedit.experiment.data import Dataset
from kedit.experiment.errors import RunError
from kedit.spec.model import Spec
from kedit.util import sha256


@dataclass(frozen=True)
class Batch:
    """The cells (one per method) that edit one chain of batches of one dataset with one seed."""

    dataset: str
    seed: int
    cells: tuple[Cell, ...]


def draw_batches(n_rows: int, size: int | str, count: int, seed: int) -> list[tuple[int, ...]]:
    """``count`` disjoint batches of ``size`` row indices, drawn with ``seed`` (``"all"``: every row)."""
    if size == "all":
        return [tuple(range(n_rows))]
    order = list(range(n_rows))
    random.Random(f"kedit-batches:{seed}").shuffle(order)
    return [tuple(sorted(order[k * size : (k + 1) * size])) for k in range(count)]


def check_sizes(spec: Spec, data: dict[str, Dataset]) -> None:
    """Every batch size fits every dataset (``batches_per_size`` disjoint batches of it)."""
    for ds in data.values():
        n = len(ds.rows)
        for size in spec.batch_sizes:
            if size != "all" and size * spec.batches_per_size > n:
                what = f"{spec.batches_per_size} batches of {size}" if spec.batches_per_size > 1 else f"batch size {size}"
                raise RunError(f"batch_sizes: {what} need {size * spec.batches_per_size} rows but dataset {ds.name!r} has {n}")


def cell_key(spec: Spec, ds: Dataset, method, chain, seed: int, fingerprints: dict[str, str]) -> str:
    """24 hex of the sha256 of everything a cell's result depends on: kedit's version and code,
    the model and its dtype, the rows, the method and its config, the seed, the metrics and
    the statistics (settings and corpus)."""
    return sha256(
        {
            "kedit": __version__,
            "code": fingerprints["code"],
            "model": fingerprints["model"],
            "dtype": spec.model.dtype,
            "rows": [sha256([ds.rows[i] for i in batch]) for batch in chain],
            "sequential": spec.sequential,
            "method": method.name,
            "hparams": method.config.to_dict(),
            "seed": seed,
            "metrics": spec.metrics,
            "statistics": asdict(spec.statistics) | {"corpus_fingerprint": fingerprints["corpus"]},
        }
    )[:24]


def plan(spec: Spec, data: dict[str, Dataset], fingerprints: dict[str, str]) -> list[Batch]:
    """Every batch of the run in order (seed, dataset, batch size, batch index).

    fingerprints: ``code``, ``model`` and ``corpus`` fingerprints (part of each cell's key).
    """
    out = []
    for seed in spec.seeds:
        for name, ds in data.items():
            for size in spec.batch_sizes:
                drawn = draw_batches(len(ds.rows), size, spec.batches_per_size, seed)
                # sequential: one cell streams every batch; else one cell per batch
                chains = [(0, tuple(drawn))] if spec.sequential else [(b, (idx,)) for b, idx in enumerate(drawn)]
                for b, chain in chains:
                    cells = tuple(Cell(cell_key(spec, ds, m, chain, seed, fingerprints), name, m, size, b, seed, chain) for m in spec.methods)
                    out.append(Batch(dataset=name, seed=seed, cells=cells))
    return out
