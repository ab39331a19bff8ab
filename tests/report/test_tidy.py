"""kedit.report.tidy: one CSV line per dataset x method x batch size x metric, with n, the mean,
the interval (or why there is none) and the seeds pooled."""

from __future__ import annotations

import csv
import io

from kedit.report.tidy import COLUMNS, render_csv
from kedit.report.view import View
from tests.report.reports import old_report, table_report


def _lines(report: dict) -> list[dict]:
    return list(csv.DictReader(io.StringIO(render_csv(View.of(report)))))


def test_one_line_per_dataset_method_batch_size_and_metric():
    view = View.of(table_report())
    lines = _lines(table_report())
    assert list(lines[0]) == COLUMNS
    assert len(lines) == sum(len(r.estimates) for r in view.rows) == 2 * 3 * 4  # datasets x methods x (efficacy, its before, akd, collisions)
    row = next(r for r in view.rows if r.label == "MEMIT-Merge" and r.dataset == "50%_a&b")
    line = next(x for x in lines if x["method"] == "MEMIT-Merge" and x["dataset"] == "50%_a&b" and x["metric"] == "efficacy")
    e = row.estimates["efficacy"]
    assert (float(line["mean"]), int(line["n"]), float(line["ci_low"]), float(line["ci_high"])) == (e.mean, 4, *e.interval)
    assert (line["batch_size"], line["seeds"], line["cells"], line["ci_level"], line["no_interval"]) == ("4", "0", "1", "0.95", "")
    akd = next(x for x in lines if x["method"] == "FT_L" and x["metric"] == "akd")
    assert (akd["ci_low"], akd["ci_high"], akd["n"], akd["no_interval"]) == ("", "", "4", "not a mean over edits")


def test_a_report_made_before_per_edit_scores_says_why_each_value_has_no_interval():
    lines = _lines(old_report(table_report()))
    assert all(x["ci_low"] == "" and x["no_interval"] == "report made before kedit kept per-edit scores (report format 2)" for x in lines)
