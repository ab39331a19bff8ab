"""The efficacy-specificity trade-off of a report: each method entry's ``sweep`` as a curve of
its points in the sweep's order, every other run (a method's default, EasyEdit's setting) as a
point of its own; per dataset, at its largest batch size (the rows of the main table).

There is a trade-off to show when at least two runs have both metrics and one of them is a
point of a sweep (:func:`tradeoff`); report.json's resolved spec says which run is which
sweep's point (``methods[].sweep``: the entry, its place, the swept values and their text).
"""

from __future__ import annotations

from dataclasses import dataclass

from kedit.report.summary import Estimate, Row
from kedit.report.view import View

X, Y = "efficacy", "specificity"


@dataclass(frozen=True)
class Point:
    """One run: its row label, what to write beside it (a sweep's values, ``λ=3500``; else
    ""), and its two estimates."""

    label: str
    text: str
    efficacy: Estimate
    specificity: Estimate


@dataclass(frozen=True)
class Curve:
    """A sweep's points in its order (``swept``), or one run on its own; ``name`` is the legend's."""

    name: str
    points: tuple[Point, ...]
    swept: bool


@dataclass(frozen=True)
class Panel:
    """One dataset's trade-off at ``batch_size``; ``unedited``: the unedited model's efficacy, where the report has it."""

    dataset: str
    batch_size: int
    curves: tuple[Curve, ...]
    unedited: float | None


def _point(row: Row, sweep: dict | None) -> Point:
    return Point(row.label, sweep["text"] if sweep else "", row.estimates[X], row.estimates[Y])


def _curve(rows: list[Row], sweeps: dict[str, dict]) -> Curve:
    """The curve of one sweep's rows (joined in the sweep's order), or of one run's row."""
    sweep = sweeps.get(rows[0].label)
    if sweep is None:
        return Curve(rows[0].label, (_point(rows[0], None),), swept=False)
    rows = sorted(rows, key=lambda r: sweeps[r.label]["index"])
    return Curve(f"{sweep['curve']}: sweep of {', '.join(sweep['values'])}", tuple(_point(r, sweeps[r.label]) for r in rows), swept=True)


def _panel(dataset: str, rows: list[Row], sweeps: dict[str, dict]) -> Panel:
    """``rows``: the dataset's rows with both metrics, in the report's order."""
    groups: dict[tuple, list[Row]] = {}
    for row in rows:
        sweep = sweeps.get(row.label)
        groups.setdefault(("sweep", sweep["entry"]) if sweep else ("run", row.label), []).append(row)
    before = next((e.mean for r in rows if (e := r.estimates.get(X + "_before")) is not None), None)
    return Panel(dataset, rows[0].batch_size, tuple(_curve(members, sweeps) for members in groups.values()), before)


def tradeoff(view: View) -> list[Panel]:
    """One panel per dataset with runs that have both metrics; [] unless at least two runs
    have both and one of them is a sweep's point."""
    sweeps = {m["label"]: m["sweep"] for m in view.data["spec"].get("methods", []) if m.get("sweep")}
    rows = [r for r in view.largest() if r.value(X) is not None and r.value(Y) is not None]
    if len({r.label for r in rows}) < 2 or not any(r.label in sweeps for r in rows):
        return []
    by_dataset: dict[str, list[Row]] = {}
    for r in rows:
        by_dataset.setdefault(r.dataset, []).append(r)
    return [_panel(ds, members, sweeps) for ds, members in by_dataset.items()]
