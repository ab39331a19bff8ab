"""Small reports the report tests share: the smallest the schema accepts in each format this
kedit reads (format 2 with per-edit scores, format 1 without), built without a run."""

from __future__ import annotations

import copy
import hashlib

import jsonschema

from kedit.spec.schema import REPORT_SCHEMA_FILE, load_schema

H = "0" * 64
EFFICACY = "token accuracy of the new object after the edit prompt"


def cell(seed: int, batch_size: int, efficacy: list[float | None], label: str = "MEMIT", dataset: str = "dataset", **metrics) -> dict:
    """A cell (format 2) whose efficacy is the mean of its per-edit scores; ``metrics``: other values, kept without per-edit scores."""
    known = [s for s in efficacy if s is not None]
    key = hashlib.sha256(f"{dataset} {label} {batch_size} {seed}".encode()).hexdigest()[:24]
    return {"key": key, "dataset": dataset, "method": label, "label": label,
            "hparams": {}, "batch_size": batch_size, "batch_spec": batch_size, "batch_index": 0, "seed": seed, "rows": list(range(batch_size)),
            "metrics": {"efficacy": sum(known) / len(known) if known else None, **metrics}, "timings": {"edit_s": 1.0, "wall_s": 1.5},
            "info": {}, "per_edit": {"efficacy": list(efficacy)}}


def report_of(cells: list[dict], metrics: dict[str, bool] | None = None, counts: tuple[str, ...] = ()) -> dict:
    """A format-2 report around ``cells`` (summary computed by kedit), checked against the schema;
    ``metrics``: the spec's metrics and whether higher is better; ``counts``: values that count."""
    from kedit.experiment.cell import CellRecord
    from kedit.report.interval import BOOTSTRAP
    from kedit.report.summary import summarise

    metrics = metrics or {"efficacy": True}
    names = sorted({k for c in cells for k in c["metrics"]})
    report = {
        "report_format": 2, "schema_version": "1", "created": "2026-12-02T00:00:00+00:00",
        "kedit": {"version": "0", "git_commit": None},
        "spec": {"name": "tiny", "datasets": {}, "methods": [], "batch_sizes": sorted({c["batch_size"] for c in cells}), "seeds": [0],
                 "metrics": list(metrics), "report": {"formats": ["json", "md"]}},
        "spec_sha256": H, "datasets": {ds: {"rows": 4, "fingerprint": H, "provenance": {}} for ds in dict.fromkeys(c["dataset"] for c in cells)},
        "model": {"name": "tiny", "source": "x", "model_type": "llama", "n_layers": 4, "fingerprint": H, "dtype": "float32", "device": "cpu",
                  "description": "a random llama of four layers"},
        "statistics": {"corpus": "c", "corpus_fingerprint": H, "n_samples": 1, "max_length": 1},
        "environment": {"python": "3", "platform": "p", "cpu_count": 1, "libraries": {"torch": "2", "transformers": "5", "datasets": "4"}},
        "seeds": [0], "metrics": {m: {"higher_is_better": up, "description": "d"} for m, up in metrics.items()},
        "timings": {"total_s": 1.0, "data_s": 0.0, "load_s": 0.0, "statistics_s": 0.0, "resumed_cells": 0},
        "cells": cells,
        "summary": [r.to_dict() for r in summarise([CellRecord.from_dict(c) for c in cells])],
        "intervals": BOOTSTRAP.to_dict(),
        "legend": {"methods": {label: f"what {label} is" for label in dict.fromkeys(c["label"] for c in cells)},
                   "metrics": {m: {"description": EFFICACY if m == "efficacy" else f"what {m} is", "count": m in counts} for m in names}},
    }
    jsonschema.validate(report, load_schema(REPORT_SCHEMA_FILE))
    return report


def minimal_report() -> dict:
    """The smallest format-2 report: one method, batch sizes 2 and 4, one seed."""
    return report_of([cell(0, 2, [0.0, 1.0]), cell(0, 4, [0.0, 0.0, 0.0, 1.0])])


def old_report(report: dict | None = None) -> dict:
    """``report`` (default: :func:`minimal_report`) as kedit wrote it before per-edit scores (format 1)."""
    old = copy.deepcopy(report or minimal_report())
    old["report_format"] = 1
    for key in ("intervals", "legend"):
        old.pop(key)
    old["model"].pop("description")
    for c in old["cells"]:
        c.pop("per_edit")
    for s in old["summary"]:
        for key in ("seeds", "n", "interval"):
            s.pop(key)
    jsonschema.validate(old, load_schema(REPORT_SCHEMA_FILE))
    return old


def table_report() -> dict:
    """Two datasets (one with ``_``, ``&`` and ``%`` in its name), three methods, efficacy with
    per-edit scores, AKD (here lower is better) and a count without; the unedited model's efficacy."""
    cells = []
    for ds, shift in (("same_subject", 0.0), ("50%_a&b", 0.25)):
        for label, scores, akd in (("MEMIT", [0.0, 0.5, 0.5, 0.25], 0.0), ("MEMIT-Merge", [1.0, 0.75, 0.5, 1.0], 0.0), ("FT_L", [0.0, 0.0, 0.25, 0.0], 2.5)):
            c = cell(0, 4, [min(1.0, s + shift) for s in scores], label=label, dataset=ds, akd=akd + shift, akd_collisions=6.0 if akd == 0.0 else 0.0)
            c["metrics"]["efficacy_before"] = 0.125
            c["per_edit"]["efficacy_before"] = [0.0, 0.25, 0.25, 0.0]
            cells.append(c)
    return report_of(cells, {"efficacy": True, "akd": False}, counts=("akd_collisions",))


# λ -> (efficacy, specificity) per edit of one batch of four: efficacy falls and specificity rises with λ
SWEEP = {1000: ([1.0, 1.0, 1.0, 0.5], [0.25, 0.5, 0.5, 0.25]), 3500: ([1.0, 0.5, 1.0, 0.5], [0.5, 0.75, 0.5, 0.75]),
         15000: ([0.0, 0.5, 0.5, 0.0], [1.0, 0.75, 1.0, 1.0])}
EASYEDIT = "MEMIT (EasyEdit defaults)"


def _run_cell(label: str, efficacy: list[float], specificity: list[float], dataset: str) -> dict:
    c = cell(0, 4, efficacy, label=label, dataset=dataset, specificity=sum(specificity) / len(specificity))
    c["method"] = "MEMIT"
    c["per_edit"]["specificity"] = specificity
    c["per_edit_weights"] = {"specificity": [1] * len(specificity)}
    return c


def sweep_report(datasets: tuple[str, ...] = ("dataset",), sweep: bool = True) -> dict:
    """A λ sweep of MEMIT (three points, listed in reverse so that the plot must order them) and
    EasyEdit's default setting on its own, with efficacy and specificity per edit, on each of
    ``datasets``; ``sweep=False``: the same runs, none recorded as a sweep's point."""
    methods = [{"name": "MEMIT", "label": f"MEMIT λ={lam}", "hparams": {"mom2_update_weight": lam},
                **({"sweep": {"entry": 0, "curve": "MEMIT", "index": k, "values": {"mom2_update_weight": lam}, "text": f"λ={lam}"}} if sweep else {})}
               for k, lam in enumerate(SWEEP)]
    methods.append({"name": "MEMIT", "label": EASYEDIT, "hparams": {"mom2_update_weight": 15000, "v_lr": 0.5}})
    cells = [_run_cell(m["label"], *SWEEP[m["hparams"]["mom2_update_weight"]], dataset=ds) for ds in datasets for m in reversed(methods[:3])]
    cells += [_run_cell(EASYEDIT, [0.0, 0.0, 0.25, 0.0], [1.0, 1.0, 0.75, 1.0], dataset=ds) for ds in datasets]
    report = report_of(cells, {"efficacy": True, "specificity": True})
    report["spec"]["methods"] = methods
    jsonschema.validate(report, load_schema(REPORT_SCHEMA_FILE))
    return report
