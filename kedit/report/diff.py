"""``kedit diff``: two reports compared cell by cell, with each metric's better direction, each
value's n and, where the report kept per-edit scores, its interval over the cell's edits.

Both reports are checked against schemas/report.schema.json first; reports that share no cell,
or share cells but no metric with a value in both, compare nothing and are a
:class:`~kedit.report.read.ReportError`, not a green gate. Reports of the formats this kedit
reads compare with each other: one made before per-edit scores shows n from its cells' batches
and no interval, and a note says so."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kedit.experiment.cell import CellRecord
from kedit.report.read import ReportError, check_report, read_json, report_file
from kedit.report.summary import PER_EDIT_FORMAT, Estimate, estimate


@dataclass
class Report:
    """A checked report: its file, content and cells by identity."""

    file: Path
    data: dict
    cells: dict[tuple, CellRecord]


def read_pair(a: Path, b: Path) -> tuple[Report, Report]:
    """Both reports, read and checked."""
    out = []
    for path in (a, b):
        file, data = report_file(path), read_json(path)
        out.append(Report(file, data, {c.identity: c for c in check_report(data, file)}))
    return out[0], out[1]


def _shown(e: Estimate) -> str:
    """A cell's value with its n and interval: ``0.5000 [0.300, 0.700] n=16``."""
    interval = f" [{e.interval[0]:.3f}, {e.interval[1]:.3f}]" if e.interval else ""
    return f"{e.mean:.4f}{interval} n={e.n}"


def _format_notes(a: Report, b: Report) -> list[str]:
    """A note for each report made before per-edit scores: its values have no interval."""
    return [
        f"note: {name} ({r.file}) was made before kedit kept per-edit scores (report format {r.data['report_format']} < {PER_EDIT_FORMAT}): "
        "its values show n from the cells' batches and no interval"
        for name, r in (("A", a), ("B", b)) if r.data["report_format"] < PER_EDIT_FORMAT
    ]


def _cell_name(cid: tuple) -> str:
    return "{} | {} | batch {} #{} | seed {}".format(*cid)


def diff_reports(a: Report, b: Report, tolerance: float = 0.0) -> tuple[list[str], list[str]]:
    """Lines describing every metric of every shared cell, and the regressions among them.

    Raises :class:`ReportError` when the reports share no cell, or no metric with a value in both."""
    direction = {m: v["higher_is_better"] for m, v in (a.data["metrics"] | b.data["metrics"]).items()}
    shared = sorted(set(a.cells) & set(b.cells), key=str)
    if not shared:
        raise ReportError(
            f"the reports share no cell (dataset, method, batch size, batch, seed): A ({a.file}) has {len(a.cells)}, "
            f"e.g. {_cell_name(min(a.cells, key=str)) if a.cells else 'none'}; B ({b.file}) has {len(b.cells)}, "
            f"e.g. {_cell_name(min(b.cells, key=str)) if b.cells else 'none'}; nothing to compare"
        )
    lines, regressions, compared = _format_notes(a, b), [], 0
    if a.data["model"]["fingerprint"] != b.data["model"]["fingerprint"]:
        lines.append(f"note: different model weights ({a.data['model']['name']} vs {b.data['model']['name']})")
    for name in sorted(set(a.data["datasets"]) & set(b.data["datasets"])):
        if a.data["datasets"][name]["fingerprint"] != b.data["datasets"][name]["fingerprint"]:
            lines.append(f"note: dataset {name!r} differs between the reports")
    for cid in sorted(set(a.cells) | set(b.cells), key=str):
        if cid not in a.cells or cid not in b.cells:
            lines.append(f"{_cell_name(cid)}: only in {'B' if cid not in a.cells else 'A'}")
            continue
        ca, cb = a.cells[cid], b.cells[cid]
        ma, mb = ca.metrics, cb.metrics
        for m in sorted(set(ma) & set(mb)):
            if m not in direction or ma[m] is None or mb[m] is None:
                continue
            compared += 1
            delta = mb[m] - ma[m]
            worse = (delta < -tolerance) if direction[m] else (delta > tolerance)
            better = (delta > tolerance) if direction[m] else (delta < -tolerance)
            mark = "worse" if worse else "better" if better else "same"
            line = f"{_cell_name(cid)} | {m}: {_shown(estimate([ca], m))} -> {_shown(estimate([cb], m))} ({delta:+.4f}, {mark})"
            lines.append(line)
            if worse:
                regressions.append(line)
    if not compared:
        raise ReportError(
            f"the reports share {len(shared)} cell(s) but no metric with a value in both "
            f"(A: {a.file}, B: {b.file}); nothing to compare"
        )
    lines.append(f"{len(regressions)} regression(s) beyond tolerance {tolerance} over {compared} value(s) in {len(shared)} shared cell(s)")
    return lines, regressions
