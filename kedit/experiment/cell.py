"""A cell of a report: one method on one batch (or, sequentially, one chain of batches) of one
dataset with one seed; and the record it leaves when it has run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from kedit.methods.registry import MethodRun
from kedit.metrics.base import PerEdit


@dataclass(frozen=True)
class Cell:
    """What to run. ``chain``: the batches edited one after another (one batch unless the
    spec is sequential), each a tuple of row indices of the dataset; ``key`` hashes
    everything the result depends on (:func:`kedit.experiment.plan.cell_key`)."""

    key: str
    dataset: str
    method: MethodRun
    batch_spec: int | str  # the spec's batch size: a number or "all"
    batch_index: int
    seed: int
    chain: tuple[tuple[int, ...], ...]

    @property
    def rows(self) -> list[int]:
        return [i for batch in self.chain for i in batch]

    @property
    def batch_size(self) -> int:
        return len(self.chain[0])

    @property
    def title(self) -> str:
        return f"{self.dataset} | {self.method.label} | batch {self.batch_size} #{self.batch_index} | seed {self.seed}"


FIRST_BATCH = "first_batch_"  # sequential editing: the prefix of the first batch's metrics after the last batch
OPTIONAL = ("steps", "batches", "per_edit", "per_edit_weights")  # keys a cell's file leaves out where they are None


@dataclass
class CellRecord:
    """A finished cell as ``cells/<key>.json`` and report.json keep it (schemas/report.schema.json)."""

    key: str
    dataset: str
    method: str
    label: str
    hparams: dict
    batch_size: int
    batch_spec: int | str
    batch_index: int
    seed: int
    rows: list[int]
    metrics: dict[str, float | None]  # None: no data (e.g. no neighbourhood prompts)
    timings: dict[str, float]
    info: dict = field(default_factory=dict)
    steps: list[dict] | None = None  # sequential: per step, the batch's and the first batch's metrics
    batches: list[list[int]] | None = None  # sequential: the chain of batches
    # Per metric that is a mean over edits: each edit's score (null: no data for that edit), in the
    # order of the edits scored: ``rows`` (sequential: the last batch; ``first_batch_*``: the first).
    # None in cells made before kedit kept them (report format 1).
    per_edit: dict[str, list[float | None]] | None = None
    per_edit_weights: dict[str, list[int]] | None = None  # metrics pooling prompts (specificity): each edit's prompt count

    @classmethod
    def of(cls, cell: Cell, metrics: dict[str, float], per_edit: dict[str, PerEdit], timings: dict[str, float], info: dict,
           steps: list[dict] | None = None) -> CellRecord:
        return cls(
            key=cell.key, dataset=cell.dataset, method=cell.method.name, label=cell.method.label, hparams=cell.method.config.to_dict(),
            batch_size=cell.batch_size, batch_spec=cell.batch_spec, batch_index=cell.batch_index, seed=cell.seed, rows=cell.rows,
            metrics={k: None if v != v else v for k, v in metrics.items()},  # NaN (no data) -> null
            timings=timings, info=info, steps=steps, batches=[list(b) for b in cell.chain] if steps is not None else None,
            per_edit={k: list(p.scores) for k, p in per_edit.items()},
            per_edit_weights={k: list(p.weights) for k, p in per_edit.items() if p.weights is not None} or None,
        )

    @classmethod
    def from_dict(cls, data: dict) -> CellRecord:
        return cls(**data)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None or k not in OPTIONAL}

    def labelled(self, label: str) -> CellRecord:
        """This record under ``label``: a run of the same key (config, rows, seed) under another label."""
        return self if label == self.label else replace(self, label=label)

    @property
    def identity(self) -> tuple:
        """What names the cell across reports: (dataset, label, batch size, batch index, seed)."""
        return (self.dataset, self.label, self.batch_size, self.batch_index, self.seed)
