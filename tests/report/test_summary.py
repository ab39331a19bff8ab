"""kedit.report.summary: each table value's mean, n and interval from the cells' per-edit
scores; a value with no interval says why."""

from __future__ import annotations

import pytest

from kedit.experiment.cell import CellRecord
from kedit.report.interval import Sample, bootstrap_interval
from kedit.report.summary import (
    NO_DATA,
    NO_PER_EDIT,
    NOT_PER_EDIT,
    ONE_EDIT,
    estimate,
    summarise,
)
from tests.report.reports import cell


def _record(seed: int, scores: list[float | None], **extra) -> CellRecord:
    data = cell(seed, len(scores), scores)
    data["metrics"] |= extra.pop("metrics", {})
    return CellRecord.from_dict(data | extra)


def test_one_cell_its_edits_and_their_interval():
    e = estimate([_record(0, [1.0, 0.0, 1.0, None])], "efficacy")
    assert e.mean == pytest.approx(2 / 3) and e.n == 3  # the edit without a score is not counted
    assert e.interval == bootstrap_interval([Sample((1.0, 0.0, 1.0))]) and e.no_interval is None


def test_cells_of_several_seeds_pool_their_edits_and_resample_cells_first():
    a, b = _record(0, [1.0, 1.0]), _record(1, [0.0, 0.0, 0.0])
    e = estimate([a, b], "efficacy")
    assert e.mean == 0.5 and e.n == 5  # the mean of the cells' means, as the table always showed
    assert e.interval == (0.0, 1.0)  # cells drawn first: all of one, all of the other, or both


def test_weights_recorded_for_a_metric_go_into_its_interval():
    data = cell(0, 3, [0.0, 0.0, 1.0]) | {"per_edit_weights": {"efficacy": [1, 1, 8]}}
    data["metrics"]["efficacy"] = 0.8  # as a value pooled over prompts: 8 of 10
    e = estimate([CellRecord.from_dict(data)], "efficacy")
    assert e.interval == bootstrap_interval([Sample((0.0, 0.0, 1.0), (1, 1, 8))])


@pytest.mark.parametrize(("record", "metric", "n", "why"), [
    (_record(0, [1.0, 0.0], metrics={"akd": 3.5}), "akd", 2, NOT_PER_EDIT),
    (_record(0, [1.0]), "efficacy", 1, ONE_EDIT),
    (_record(0, [None, None]), "efficacy", 0, NO_DATA),
    (_record(0, [1.0, 0.0], per_edit=None), "efficacy", 2, NO_PER_EDIT),
], ids=["not a mean over edits", "one edit", "no data", "made before per-edit scores"])
def test_a_value_without_an_interval_says_why(record, metric, n, why):
    e = estimate([record], metric)
    assert (e.n, e.interval, e.no_interval) == (n, None, why)


def test_summary_rows_group_by_dataset_method_and_batch_size():
    cells = [_record(0, [1.0, 0.0]), _record(1, [1.0, 1.0]), _record(0, [0.0, 0.0, 0.0])]
    rows = summarise(cells)
    assert [(r.batch_size, r.cells, r.seeds) for r in rows] == [(2, 2, (0, 1)), (3, 1, (0,))]
    assert rows[0].estimates["efficacy"].mean == 0.75 and rows[0].estimates["efficacy"].n == 4
    d = rows[0].to_dict()
    assert d["n"] == {"efficacy": 4} and d["interval"]["efficacy"] == list(rows[0].estimates["efficacy"].interval)
