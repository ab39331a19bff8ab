"""Assemble ``report.json`` (with its provenance) and write the report files.

The report records what is needed to trust and repeat a result: the resolved spec and its
hash, dataset fingerprints and row counts, the model's identity and weight fingerprint,
library versions, kedit's version and git commit, seeds, the machine, and per-cell timings.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from pathlib import Path

import jsonschema

from kedit import __version__
from kedit.experiment.cell import CellRecord
from kedit.metrics import METRICS
from kedit.provenance import environment, git_commit
from kedit.report.render import render_markdown
from kedit.spec.schema import REPORT_SCHEMA_FILE, SCHEMA_VERSION, load_schema
from kedit.util import sha256, write_atomic

REPORT_FORMAT = 1


def summarise(cells: list[CellRecord]) -> list[dict]:
    """Mean of every metric over seeds and batches, per (dataset, method label, batch size)."""
    groups: dict[tuple, list[CellRecord]] = defaultdict(list)
    for c in cells:
        groups[(c.dataset, c.label, c.batch_size)].append(c)
    out = []
    for (dataset, label, size), members in groups.items():
        names = sorted({k for c in members for k in c.metrics})
        means = {}
        for k in names:
            vals = [v for c in members if (v := c.metrics.get(k)) is not None and v == v]  # drop missing and NaN
            means[k] = sum(vals) / len(vals) if vals else None
        out.append({"dataset": dataset, "label": label, "batch_size": size, "cells": len(members), "metrics": means,
                    "edit_s_mean": sum(c.timings["edit_s"] for c in members) / len(members)})
    return out


def build_report(spec, data, loaded, corpus, cells: list[CellRecord], timings: dict, resumed: int = 0) -> dict:
    """report.json's content for a finished run (plain JSON types only)."""
    resolved = spec.resolved()
    report = {
        "report_format": REPORT_FORMAT,
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
            "dtype": spec.model.dtype,
            "device": spec.model.device,
        },
        "statistics": {"corpus": corpus.name, "corpus_fingerprint": corpus.fingerprint, **{k: getattr(spec.statistics, k) for k in ("n_samples", "max_length")}},
        "environment": environment(),
        "seeds": spec.seeds,
        "metrics": {m: {"higher_is_better": METRICS[m].higher_is_better, "description": METRICS[m].description} for m in spec.metrics},
        "timings": timings | {"resumed_cells": resumed},
        "cells": [c.to_dict() for c in cells],
        "summary": summarise(cells),
    }
    return json.loads(json.dumps(report, default=float))  # plain JSON types only


def validate_report(report: dict) -> None:
    jsonschema.validate(report, load_schema(REPORT_SCHEMA_FILE))


def write_report(report: dict, where: Path, formats=("json", "md", "png")) -> None:
    """Validate and write ``report.json``; render ``report.md`` and the plots from it (plots
    need matplotlib, part of the engine: ``kedit report`` checks for it first)."""
    validate_report(report)
    write_atomic(where / "report.json", json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    plots = []
    if "png" in formats:
        from kedit.report.plots import write_plots  # matplotlib: imported only to draw

        plots = write_plots(report, where)
    if "md" in formats:
        write_atomic(where / "report.md", render_markdown(report, plots))
