"""``kedit run`` with glibc's malloc set to keep what the process frees (kedit's default,
:mod:`kedit.models.host_memory`) and as glibc ships it (``KEDIT_MALLOC=default``), runs
alternating so that a drift in the machine's speed hits both alike (Linux with glibc only).

    python benchmarks/bench_malloc.py [--repeats 3] [--cold-repeats 2]

Two workloads: MEMIT-Merge alone on the test-split grouped 10 x 10 batch
(``benchmarks/alone/memit_merge_grouped.yaml``, model and statistics cached: the value steps
dominate), and the README's main job on an empty cache (``specs/same_subject.yaml``; loading,
statistics and values). Per run: wall time, the report's phases, CPU time in user and system
mode, minor page faults, peak resident memory. The results must also be the same: the
allocator changes where tensors live, not what is computed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_run import split
from common import ROOT, machine, write_results

from kedit.models.host_memory import KEEP

WORKLOADS = {
    "grouped_memit_merge": ("benchmarks/alone/memit_merge_grouped.yaml", False),
    "main_job_cold": ("specs/same_subject.yaml", True),
}
TUNINGS = {"kept": {}, "glibc_default": {"KEDIT_MALLOC": "default"}}  # extra environment of each


def one_run(spec: str, cold: bool, tuning: str) -> dict:
    env = os.environ | {"HF_HUB_OFFLINE": "1"} | TUNINGS[tuning]
    if cold:
        env["KEDIT_CACHE"] = tempfile.mkdtemp(prefix="kedit-bench-cache-")
    out = Path(tempfile.mkdtemp(prefix="kedit-bench-malloc-"))
    log = out.with_suffix(".log")
    t = time.perf_counter()
    with log.open("w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "kedit.cli", "run", spec, "--out", str(out), "--no-resume"], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)  # this run's own resource use (peak memory included)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"kedit run {spec} failed:\n{log.read_text()[-3000:]}")
    report = json.loads((out / "report.json").read_text())
    return {
        "tuning": tuning,
        "wall_s": wall,
        "user_s": usage.ru_utime,
        "system_s": usage.ru_stime,
        "minor_faults": usage.ru_minflt,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        **split(report),
        "metrics": {f"{c['dataset']}/{c['label']}": c["metrics"] for c in report["cells"]},
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=3, help="pairs of runs of the grouped batch")
    p.add_argument("--cold-repeats", type=int, default=2, help="pairs of runs of the main job on an empty cache")
    args = p.parse_args()
    runs = {}
    for name, (spec, cold) in WORKLOADS.items():
        runs[name] = [one_run(spec, cold, tuning) for _ in range(args.cold_repeats if cold else args.repeats) for tuning in TUNINGS]
    md = ["# glibc's malloc set to keep what the process frees (kedit), against glibc as shipped", "", f"kept: mallopt {KEEP} (M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD; `kedit.models.host_memory`); glibc_default: `KEDIT_MALLOC=default`. Runs alternate (kept, glibc, kept, glibc, ...). Median over the runs of each; every run in the JSON file.", ""]
    keys = ("wall_s", "value_optimisation_s", "statistics_s", "load_s", "user_s", "system_s", "minor_faults", "peak_rss_mib")
    for name, rs in runs.items():
        md += [f"## {name} (`{WORKLOADS[name][0]}`{', empty cache' if WORKLOADS[name][1] else ''})", "", "| malloc | runs | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
        for tuning in TUNINGS:
            mine = [r for r in rs if r["tuning"] == tuning]
            md.append(f"| {tuning} | {len(mine)} | " + " | ".join(f"{statistics.median(r[k] for r in mine):.1f}" if k != "minor_faults" else f"{statistics.median(r[k] for r in mine):,.0f}" for k in keys) + " |")
        md += ["", "Wall time of each run, in order: " + ", ".join(f"{r['wall_s']:.1f} ({r['tuning']})" for r in rs) + ".", ""]
        same = all(r["metrics"] == rs[0]["metrics"] for r in rs)
        md += [f"Metrics identical in every run: {'yes' if same else 'no (see the JSON file)'}.", ""]
    md += [f"Machine: {json.dumps(machine())}", ""]
    write_results("malloc_smollm2-135m", {"machine": machine(), "runs": runs}, "\n".join(md))


if __name__ == "__main__":
    main()
