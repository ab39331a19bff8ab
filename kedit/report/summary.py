"""A report's table: per (dataset, method label, batch size), each metric's mean over the
row's cells (seeds, batches), n (the edit scores it rests on) and its bootstrap interval.

Every renderer (report.md, LaTeX, CSV, plots) and report.json's ``summary`` take their rows
from :func:`summarise`, computed from the cells, so a report made before kedit kept per-edit
scores (report format 1) renders too: with n from its cells' batches and no interval.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from kedit.experiment.cell import CellRecord
from kedit.report.interval import BOOTSTRAP, Bootstrap, Sample, bootstrap_interval

PER_EDIT_FORMAT = 2  # the first report format whose cells keep per-edit scores

# Why an estimate has no interval
NOT_PER_EDIT = "not a mean over edits"
NO_PER_EDIT = f"report made before kedit kept per-edit scores (report format {PER_EDIT_FORMAT})"
ONE_EDIT = "one edit"
NO_DATA = "no data"


@dataclass(frozen=True)
class Estimate:
    """One metric of one row: the mean over the row's cells, n edit scores (an edit scored in
    two seeds counts twice), and the interval, or why there is none."""

    mean: float | None
    n: int
    interval: tuple[float, float] | None = None
    no_interval: str | None = None  # the reason, where ``interval`` is None


@dataclass(frozen=True)
class Row:
    """One (dataset, method label, batch size) of the report's table."""

    dataset: str
    label: str
    batch_size: int
    cells: int
    seeds: tuple[int, ...]
    edit_s_mean: float
    estimates: dict[str, Estimate]

    def value(self, metric: str) -> float | None:
        e = self.estimates.get(metric)
        return None if e is None else e.mean

    def to_dict(self) -> dict:
        """The row as report.json's ``summary`` keeps it."""
        e = self.estimates
        return {"dataset": self.dataset, "label": self.label, "batch_size": self.batch_size, "cells": self.cells, "seeds": list(self.seeds),
                "metrics": {m: x.mean for m, x in e.items()}, "n": {m: x.n for m, x in e.items()},
                "interval": {m: list(x.interval) if x.interval else None for m, x in e.items()}, "edit_s_mean": self.edit_s_mean}


def _samples(cells: list[CellRecord], metric: str) -> list[Sample]:
    """Each cell's edits that have a score for ``metric`` (cells without any left out)."""
    out = []
    for c in cells:
        scores = c.per_edit[metric]
        weights = (c.per_edit_weights or {}).get(metric)
        kept = [i for i, s in enumerate(scores) if s is not None]
        if kept:
            out.append(Sample(tuple(scores[i] for i in kept), tuple(weights[i] for i in kept) if weights else None))
    return out


def estimate(cells: list[CellRecord], metric: str, boot: Bootstrap = BOOTSTRAP) -> Estimate:
    """``metric`` over ``cells``: the mean of the cells' values, n and the interval (:mod:`kedit.report.interval`)."""
    with_value = [c for c in cells if (v := c.metrics.get(metric)) is not None and not math.isnan(v)]
    if not with_value:
        return Estimate(None, 0, no_interval=NO_DATA)
    mean = sum(c.metrics[metric] for c in with_value) / len(with_value)
    if any(c.per_edit is None for c in with_value):
        return Estimate(mean, sum(c.batch_size for c in with_value), no_interval=NO_PER_EDIT)
    if any(metric not in c.per_edit for c in with_value):
        return Estimate(mean, sum(c.batch_size for c in with_value), no_interval=NOT_PER_EDIT)
    samples = _samples(with_value, metric)
    n = sum(len(s.scores) for s in samples)
    if n < 2:
        return Estimate(mean, n, no_interval=ONE_EDIT)
    return Estimate(mean, n, bootstrap_interval(samples, boot))


def summarise(cells: list[CellRecord], boot: Bootstrap = BOOTSTRAP) -> list[Row]:
    """One row per (dataset, method label, batch size), in the order the cells first name them."""
    groups: dict[tuple, list[CellRecord]] = defaultdict(list)
    for c in cells:
        groups[(c.dataset, c.label, c.batch_size)].append(c)
    rows = []
    for (dataset, label, size), members in groups.items():
        names = sorted({k for c in members for k in c.metrics})
        rows.append(Row(dataset, label, size, len(members), tuple(sorted({c.seed for c in members})),
                        sum(c.timings["edit_s"] for c in members) / len(members), {k: estimate(members, k, boot) for k in names}))
    return rows
