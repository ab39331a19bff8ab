"""``kedit report DIR --format csv``: the report's table in tidy form, one line per dataset x
method x batch size x metric, with n, the mean, the interval and the seeds it pools."""

from __future__ import annotations

import csv
import io

from kedit.report.view import View

COLUMNS = ["dataset", "method", "batch_size", "metric", "n", "mean", "ci_low", "ci_high", "ci_level", "seeds", "cells", "no_interval"]


def render_csv(view: View) -> str:
    """CSV text (header first; numbers in full precision; an empty interval says why in ``no_interval``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in view.rows:
        for metric, e in r.estimates.items():
            low, high = e.interval if e.interval else ("", "")
            writer.writerow([r.dataset, r.label, r.batch_size, metric, e.n, "" if e.mean is None else e.mean, low, high,
                             view.boot.level if e.interval else "", " ".join(map(str, r.seeds)), r.cells, e.no_interval or ""])
    return out.getvalue()
