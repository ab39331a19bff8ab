"""Assemble ``report.json`` (with its provenance) and write the report files.

The report records what is needed to trust and repeat a result: the resolved spec and its
hash, dataset fingerprints and row counts, the model's identity and weight fingerprint,
library versions, kedit's version and git commit, seeds, the machine, and per-cell timings.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from collections import defaultdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import jsonschema

from kedit import __version__
from kedit.metrics import METRICS
from kedit.spec.schema import REPORT_SCHEMA_FILE, SCHEMA_VERSION, load_schema

REPORT_FORMAT = 1


def git_commit() -> str | None:
    """The commit of the kedit checkout, when kedit runs from one."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _version(pkg: str) -> str | None:
    try:
        return version(pkg)
    except PackageNotFoundError:
        return None


def environment() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "libraries": {p: _version(p) for p in ("torch", "transformers", "datasets", "jsonschema", "SPARQLWrapper", "pyoxigraph")},
    }


def summarise(cells: list[dict]) -> list[dict]:
    """Mean of every metric over seeds and batches, per (dataset, method label, batch size)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for c in cells:
        groups[(c["dataset"], c["label"], c["batch_size"])].append(c)
    out = []
    for (dataset, label, size), members in groups.items():
        names = sorted({k for c in members for k in c["metrics"]})
        means = {}
        for k in names:
            vals = [c["metrics"][k] for c in members if k in c["metrics"] and c["metrics"][k] == c["metrics"][k]]  # drop NaN
            means[k] = sum(vals) / len(vals) if vals else None
        out.append({"dataset": dataset, "label": label, "batch_size": size, "cells": len(members), "metrics": means,
                    "edit_s_mean": sum(c["timings"]["edit_s"] for c in members) / len(members)})
    return out


def build_report(spec, data, loaded, corpus, cells: list[dict], timings: dict, resumed: int = 0) -> dict:
    from kedit.run import sha256

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
        "cells": cells,
        "summary": summarise(cells),
    }
    return json.loads(json.dumps(report, default=float))  # plain JSON types only


def validate_report(report: dict) -> None:
    jsonschema.validate(report, load_schema(REPORT_SCHEMA_FILE))


def write_report(report: dict, where: Path, formats=("json", "md", "png")) -> None:
    """Validate and write ``report.json``; render ``report.md`` and the plots from it."""
    from kedit.report.plots import write_plots
    from kedit.report.render import render_markdown
    from kedit.run import write_atomic

    validate_report(report)
    write_atomic(where / "report.json", json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    plots = write_plots(report, where) if "png" in formats else []
    if "md" in formats:
        write_atomic(where / "report.md", render_markdown(report, plots))
