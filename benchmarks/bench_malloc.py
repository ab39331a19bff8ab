"""``kedit run`` with glibc's malloc tuned to keep what it frees, and as glibc ships it, runs
alternating so that a drift in the machine's speed hits both alike (Linux with glibc only).

On the CPU, PyTorch takes every tensor from ``malloc``. glibc serves blocks over a threshold
(128 KiB, rising to at most 32 MiB as such blocks are freed) with fresh ``mmap`` pages, given
back on ``free``, and trims its heap once 128 KiB lie free at its top; a value step makes and
frees hundreds of 1-30 MB activations, each paged in anew. The tuned runs call ``mallopt``
(``TUNED``) before kedit starts, as jemalloc or tcmalloc (PyTorch's CPU tuning guide) would
behave. Not adopted: see the result file.

    python benchmarks/bench_malloc.py [--repeats 3] [--cold-repeats 2]

Two workloads: MEMIT-Merge alone on the test-split grouped 10 x 10 batch
(``benchmarks/alone/memit_merge_grouped.yaml``, model and statistics cached: the value steps
dominate), and the README's main job on an empty cache (``specs/same_subject.yaml``; loading,
statistics and values). Per run: wall time, the report's phases, CPU time in user and system
mode, minor page faults. The results must also be the same: the
allocator changes where tensors live, not what is computed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_run import split
from common import ROOT, machine, write_results

# mallopt(3): M_TRIM_THRESHOLD (free memory at the heap's top that stays), M_TOP_PAD (the heap
# grows by at least this much), M_MMAP_THRESHOLD (only larger blocks get their own mmap; 32 MiB
# is the largest glibc takes).
TUNED = {-1: 2_000_000_000, -2: 256 << 20, -3: 32 << 20}
RUN = "import ctypes, sys; {tune}from kedit.cli import main; main(sys.argv[1:])"
WORKLOADS = {
    "grouped_memit_merge": ("benchmarks/alone/memit_merge_grouped.yaml", False),
    "main_job_cold": ("specs/same_subject.yaml", True),
}
TUNINGS = {"tuned": "".join(f"assert ctypes.CDLL('libc.so.6').mallopt({k}, {v}) == 1; " for k, v in TUNED.items()), "glibc_default": ""}


def one_run(spec: str, cold: bool, tuning: str) -> dict:
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    if cold:
        env["KEDIT_CACHE"] = tempfile.mkdtemp(prefix="kedit-bench-cache-")
    out = Path(tempfile.mkdtemp(prefix="kedit-bench-malloc-"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", RUN.format(tune=TUNINGS[tuning]), "run", spec, "--out", str(out), "--no-resume"], check=False, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"kedit run {spec} failed:\n{proc.stderr[-3000:]}")
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads((out / "report.json").read_text())
    return {
        "tuning": tuning,
        "wall_s": wall,
        "user_s": after.ru_utime - before.ru_utime,
        "system_s": after.ru_stime - before.ru_stime,
        "minor_faults": after.ru_minflt - before.ru_minflt,
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
    md = ["# glibc's malloc tuned to keep what it frees, against glibc as shipped", "", f"Tuned: mallopt {TUNED} (M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD). Runs alternate (tuned, glibc, tuned, glibc, ...). Median over the runs of each; every run in the JSON file.", ""]
    keys = ("wall_s", "value_optimisation_s", "statistics_s", "load_s", "user_s", "system_s", "minor_faults")
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
