"""``kedit diff``: two reports compared cell by cell, with each metric's better direction."""

from __future__ import annotations

import json
from pathlib import Path

from kedit.experiment.cell import CellRecord


def read_report(path: Path) -> dict:
    """A report directory or its report.json."""
    path = path / "report.json" if path.is_dir() else path
    return json.loads(path.read_text(encoding="utf-8"))


def diff_reports(a: dict, b: dict, tolerance: float = 0.0) -> tuple[list[str], list[str]]:
    """Lines describing every metric of every shared cell, and the regressions among them."""
    direction = {m: v["higher_is_better"] for m, v in (a["metrics"] | b["metrics"]).items()}
    cells_a = {c.identity: c for c in map(CellRecord.from_dict, a["cells"])}
    cells_b = {c.identity: c for c in map(CellRecord.from_dict, b["cells"])}
    lines, regressions = [], []
    if a["model"]["fingerprint"] != b["model"]["fingerprint"]:
        lines.append(f"note: different model weights ({a['model']['name']} vs {b['model']['name']})")
    for name in sorted(set(a["datasets"]) & set(b["datasets"])):
        if a["datasets"][name]["fingerprint"] != b["datasets"][name]["fingerprint"]:
            lines.append(f"note: dataset {name!r} differs between the reports")
    for cid in sorted(set(cells_a) | set(cells_b), key=str):
        where = "{} | {} | batch {} #{} | seed {}".format(*cid)
        if cid not in cells_a or cid not in cells_b:
            lines.append(f"{where}: only in {'B' if cid not in cells_a else 'A'}")
            continue
        ma, mb = cells_a[cid].metrics, cells_b[cid].metrics
        for m in sorted(set(ma) & set(mb)):
            if m not in direction or ma[m] is None or mb[m] is None:
                continue
            delta = mb[m] - ma[m]
            worse = (delta < -tolerance) if direction[m] else (delta > tolerance)
            better = (delta > tolerance) if direction[m] else (delta < -tolerance)
            mark = "worse" if worse else "better" if better else "same"
            line = f"{where} | {m}: {ma[m]:.4f} -> {mb[m]:.4f} ({delta:+.4f}, {mark})"
            lines.append(line)
            if worse:
                regressions.append(line)
    lines.append(f"{len(regressions)} regression(s) beyond tolerance {tolerance}")
    return lines, regressions
