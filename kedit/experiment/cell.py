"""A cell of a report: one method on one batch (or, sequentially, one chain of batches) of one
dataset with one seed; and the record it leaves when it has run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from kedit.methods.registry import MethodRun


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

    @classmethod
    def of(cls, cell: Cell, metrics: dict[str, float], timings: dict[str, float], info: dict, steps: list[dict] | None = None) -> "CellRecord":
        return cls(
            key=cell.key, dataset=cell.dataset, method=cell.method.name, label=cell.method.label, hparams=cell.method.config.to_dict(),
            batch_size=cell.batch_size, batch_spec=cell.batch_spec, batch_index=cell.batch_index, seed=cell.seed, rows=cell.rows,
            metrics={k: None if v != v else v for k, v in metrics.items()},  # NaN (no data) -> null
            timings=timings, info=info, steps=steps, batches=[list(b) for b in cell.chain] if steps is not None else None,
        )

    @classmethod
    def from_dict(cls, data: dict) -> "CellRecord":
        return cls(**data)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None or k not in ("steps", "batches")}

    @property
    def identity(self) -> tuple:
        """What names the cell across reports: (dataset, label, batch size, batch index, seed)."""
        return (self.dataset, self.label, self.batch_size, self.batch_index, self.seed)
