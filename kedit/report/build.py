"""Assemble ``report.json`` (with its provenance) and write the report files.

The report records what is needed to trust and repeat a result: the resolved spec and its
hash, dataset fingerprints and row counts, the model's identity and weight fingerprint,
library versions, kedit's version and git commit, seeds, the machine, and per-cell timings.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import jsonschema

from kedit import __version__
from kedit.experiment.cell import CellRecord
from kedit.metrics import METRICS
from kedit.provenance import environment, git_commit
from kedit.report.interval import BOOTSTRAP
from kedit.report.legend import build_legend
from kedit.report.summary import PER_EDIT_FORMAT, summarise
from kedit.report.view import View
from kedit.spec.schema import REPORT_SCHEMA_FILE, SCHEMA_VERSION, load_schema
from kedit.util import sha256, write_atomic



def build_report(spec, data, loaded, corpus, cells: list[CellRecord], timings: dict, resumed: int = 0) -> View:
    """A finished run's report: report.json's content (plain JSON types only) with its table rows,
    summarised (and their intervals bootstrapped) once, for report.json and every renderer."""
    resolved = spec.resolved()
    rows = summarise(cells, BOOTSTRAP)
    report = {
        "report_format": PER_EDIT_FORMAT,  # 2: cells keep per-edit scores, summary rows n and intervals, the model its description
        "schema_version": SCHEMA_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "kedit": {"version": __version__, "git_commit": git_commit()},
        "spec": resolved,
        "spec_sha256": sha256(resolved),
        "spec_file": spec.source,
        "datasets": {
            name: {"rows": len(ds.rows), "fingerprint": ds.fingerprint, "provenance": ds.provenance} for name, ds in data.items()
        },
        "model": {
            "name": loaded.name,
            "source": loaded.source,
            "model_type": loaded.arch.model_type,
            "n_layers": loaded.n_layers,
            "fingerprint": loaded.fingerprint,
            "description": loaded.description,
            "dtype": spec.model.dtype,
            "device": spec.model.device,
        },
        "statistics": {"corpus": corpus.name, "corpus_fingerprint": corpus.fingerprint, **{k: getattr(spec.statistics, k) for k in ("n_samples", "max_length")}},
        "environment": environment(),
        "seeds": spec.seeds,
        "metrics": {m: {"higher_is_better": METRICS[m].higher_is_better, "description": METRICS[m].description} for m in spec.metrics},
        "timings": timings | {"resumed_cells": resumed},
        "cells": [c.to_dict() for c in cells],
        "summary": [row.to_dict() for row in rows],
        "intervals": BOOTSTRAP.to_dict(),
        "legend": build_legend(resolved["methods"], list(spec.metrics), {k for c in cells for k in c.metrics}).to_dict(),
    }
    return View.of(json.loads(json.dumps(report, default=float)), rows)  # plain JSON types only


def validate_report(report: dict) -> None:
    jsonschema.validate(report, load_schema(REPORT_SCHEMA_FILE))


def write_report(view: View, where: Path, formats=("json", "md", "png")) -> None:
    """Validate and write ``report.json``; render ``report.md`` and the plots from it (plots
    need matplotlib, part of the engine: ``kedit report`` checks for it first)."""
    validate_report(view.data)
    write_atomic(where / "report.json", json.dumps(view.data, indent=1, ensure_ascii=False) + "\n")
    render_files(view, where, formats)


def render_files(view: View, where: Path, formats=("md", "png")) -> None:
    """Write the plots (``png``) and ``report.md`` (``md``) of a report into ``where``."""
    from kedit.report.render import render_markdown

    plots = []
    if "png" in formats:
        from kedit.report.plots import write_plots  # matplotlib (the engine): imported only to draw

        plots = write_plots(view, where)
    if "md" in formats:
        write_atomic(where / "report.md", render_markdown(view, plots))
