"""A report as every renderer reads it (report.md, LaTeX, CSV, plots): its content, its table
rows with n and intervals, its legend and its model's description."""

from __future__ import annotations

from dataclasses import dataclass

from kedit.experiment.cell import CellRecord
from kedit.report.interval import Bootstrap
from kedit.report.legend import Legend, legend_of, model_description
from kedit.report.summary import PER_EDIT_FORMAT, Row, summarise

# The paper's Table 1 columns, in order, with their abbreviations (kedit adds exact match and AKD)
TABLE_METRICS = {"efficacy": "Eff.", "efficacy_exact": "Exact", "paraphrase": "Para.", "specificity": "Spec.", "akd": "AKD"}
UNEDITED = "(unedited model)"
BEFORE = "_before"  # a rewrite metric's value on the unedited model (kedit.metrics.rewrite)


@dataclass(frozen=True)
class View:
    data: dict  # report.json's content, checked against the schema
    rows: list[Row]
    legend: Legend
    model: str  # what the model is
    boot: Bootstrap  # how the intervals were computed (a report before intervals: how they would be)

    @classmethod
    def of(cls, report: dict, rows: list[Row] | None = None) -> View:
        """The view of ``report``; ``rows``: its table if already summarised (a run that just
        made it), else summarised from its cells (a report read from disk)."""
        boot = Bootstrap.from_dict(report["intervals"]) if "intervals" in report else Bootstrap()
        if rows is None:
            rows = summarise([CellRecord.from_dict(c) for c in report["cells"]], boot)
        return cls(report, rows, legend_of(report), model_description(report), boot)

    @property
    def datasets(self) -> list[str]:
        return list(self.data["datasets"])

    def no_interval_note(self) -> str | None:
        """Why this report's values have no interval (None where they have one)."""
        if self.data["report_format"] >= PER_EDIT_FORMAT:
            return None
        k = self.data["kedit"]
        commit = f", commit {k['git_commit'][:7]}" if k.get("git_commit") else ""
        return (f"no interval: report made with kedit {k['version']}{commit} (report format {self.data['report_format']}), "
                f"before kedit kept per-edit scores (report format {PER_EDIT_FORMAT}); n counts the edits of each cell's batch")

    def interval_text(self) -> str:
        """One sentence on the intervals, for captions."""
        if (note := self.no_interval_note()) is not None:
            return note[0].upper() + note[1:] + "."
        return f"Intervals: {self.boot.describe()}."

    def largest(self) -> list[Row]:
        """Per dataset, the rows of its largest batch size (Table 1's)."""
        top = {}
        for r in self.rows:
            top[r.dataset] = max(top.get(r.dataset, 0), r.batch_size)
        return [r for r in self.rows if r.batch_size == top[r.dataset]]

    def table_metrics(self) -> dict[str, str]:
        """Table 1's columns this report has values for: metric -> abbreviation."""
        present = {m for r in self.rows for m, e in r.estimates.items() if e.mean is not None}
        return {m: short for m, short in TABLE_METRICS.items() if m in present}

    def direction(self, metric: str) -> bool | None:
        """Whether higher is better (None where the report does not say)."""
        return self.data["metrics"].get(metric, {}).get("higher_is_better")


def unedited(rows: list[Row]) -> list[Row]:
    """A pseudo-row per dataset from the ``*_before`` values: what the unedited model already gets right."""
    out = {}
    for r in rows:
        before = {m[: -len(BEFORE)]: e for m, e in r.estimates.items() if m.endswith(BEFORE)}
        if r.dataset not in out and any(e.mean is not None for e in before.values()):
            out[r.dataset] = Row(r.dataset, UNEDITED, r.batch_size, r.cells, r.seeds, 0.0, before)
    return list(out.values())
