"""End-to-end time of ``kedit run SPEC``, split into load, data, statistics, value optimisation,
update (keys + solves), evaluation.

    python benchmarks/bench_run.py specs/same_subject.yaml [--fresh-stats | --cold] [--tag TAG]

Runs the spec into a temporary report directory (no resume); with ``--fresh-stats`` the
statistics cache is emptied first so their cost is measured too; with ``--cold`` the whole
cache is (``KEDIT_CACHE`` a new folder: the model is dequantised too), as on a new machine.
``--tag`` ends the result file's name (e.g. the machine kind, so one machine's file does not
replace another's).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, machine, write_results


def split(report: dict) -> dict:
    cells = report["cells"]
    t = report["timings"]
    values = sum(c["info"].get("values_s", 0.0) for c in cells)
    stats = t["statistics_s"]  # the run's one pass before its first batch (cells carry none of it)
    edit = sum(c["timings"]["edit_s"] for c in cells)
    evaluation = sum(c["timings"].get("evaluate_s", 0.0) + c["timings"].get("before_s", 0.0) for c in cells)
    return {
        "load_s": t["load_s"],
        "data_s": t["data_s"],
        "statistics_s": stats,
        "value_optimisation_s": values,
        "update_s": edit - values,
        "evaluation_s": evaluation,
        "total_s": t["total_s"],
        "total_excluding_statistics_s": t["total_s"] - stats,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("spec")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--fresh-stats", action="store_true")
    which.add_argument("--cold", action="store_true")
    p.add_argument("--tag", help="appended to the result file's name, e.g. xeon_avx512_float32")
    args = p.parse_args()
    if args.tag and not re.fullmatch(r"[A-Za-z0-9_.-]+", args.tag):
        p.error(f"--tag {args.tag!r}: letters, digits, '_', '.' and '-' only (it becomes part of a file name)")
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    if args.fresh_stats or args.cold:
        env["KEDIT_CACHE"] = tempfile.mkdtemp(prefix="kedit-bench-cache-")
    if args.fresh_stats:
        # keep the de-quantised model: its conversion is a one-off of loading, not of statistics
        models = Path(os.environ.get("KEDIT_CACHE") or Path.home() / ".cache" / "kedit") / "models"
        if models.exists():
            os.symlink(models, Path(env["KEDIT_CACHE"]) / "models")
    out = Path(tempfile.mkdtemp(prefix="kedit-bench-run-"))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kedit.cli", "run", args.spec, "--out", str(out), "--no-resume"], check=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - t
    report = json.loads((out / "report.json").read_text())
    parts = split(report) | {"process_wall_s": wall}
    md = [
        f"# `kedit run {args.spec}`: where the time goes" + (" (empty cache: a new machine)" if args.cold else ""),
        "",
        "| part | seconds |",
        "|---|---|",
        *[f"| {k.removesuffix('_s').replace('_', ' ')} | {v:.1f} |" for k, v in parts.items()],
        "",
        "Metrics of the run:",
        "",
        *[f"- {s['dataset']} / {s['label']} / batch {s['batch_size']}: " + ", ".join(f"{k} {v:.3f}" for k, v in s["metrics"].items() if v is not None and not k.startswith("akd_layer")) for s in report["summary"]],
        "",
        f"Machine: {json.dumps(machine())}",
        "",
    ]
    name = "run_" + Path(args.spec).stem + ("_fresh_stats" if args.fresh_stats else "_cold" if args.cold else "") + (f"_{args.tag}" if args.tag else "")
    write_results(name, {"machine": machine(), "spec": args.spec, "split": parts, "summary": report["summary"]}, "\n".join(md))


if __name__ == "__main__":
    main()
