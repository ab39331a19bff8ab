"""Seconds of ``kedit run SPEC``'s data phase (every dataset of the spec materialised) on an
empty cache, each repetition in a fresh process with ``KEDIT_CACHE`` a new folder:

- ``read``: as ``kedit run`` does it, reading a built dataset directory whose key matches
  (kedit/data/reuse.py) when there is one;
- ``build``: every Wikidata dataset built from the snapshot, as before that (the search finds
  nothing: the snapshot is loaded into oxigraph and queried).

    python benchmarks/bench_data.py specs/same_subject.yaml [--repeat 3]

The processes import what ``kedit run`` has imported before its data phase (the runner), so
the seconds are the phase's own, as report.json's ``timings.data_s`` counts them.
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

from common import ROOT, machine, write_results

MODES = ("build", "read")


def child(spec_path: str, mode: str) -> dict:
    import kedit.experiment.runner  # noqa: F401  (imported by `kedit run` before the data phase)
    from kedit.experiment.data import materialise
    from kedit.spec.load import load_spec

    if mode == "build":  # imports the builder before the clock starts (~0.1 s of the read mode's time)
        from kedit.data import reuse

        reuse.find = lambda config, folders=None: None
    spec = load_spec(spec_path)
    started = time.perf_counter()
    data = {name: materialise(name, cfg, Path(spec.source).parent) for name, cfg in spec.datasets.items()}
    seconds = time.perf_counter() - started
    from kedit.data.reuse import READ_FROM

    return {"data_s": seconds, "fingerprints": {name: d.fingerprint for name, d in data.items()},
            "read_from": {name: _relative(d.provenance.get(READ_FROM)) for name, d in data.items()}}


def _relative(path: str | None) -> str | None:
    """A directory of the repository as a path from its root (result files name no checkout)."""
    return path and (Path(path).relative_to(ROOT).as_posix() if Path(path).is_relative_to(ROOT) else path)


def run(spec: str, mode: str) -> dict:
    env = os.environ | {"HF_HUB_OFFLINE": "1", "KEDIT_CACHE": tempfile.mkdtemp(prefix="kedit-bench-data-")}
    env.pop("KEDIT_DATASETS", None)
    out = subprocess.run([sys.executable, __file__, "--child", mode, spec], check=False, capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"bench_data child failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("spec")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--child", choices=MODES)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.spec, args.child)))
        return
    load = os.getloadavg()[0]
    runs = {mode: [run(args.spec, mode) for _ in range(args.repeat)] for mode in MODES}
    load = f"{load:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} cores; other work shares them)"
    fingerprints = {json.dumps(r["fingerprints"], sort_keys=True) for rs in runs.values() for r in rs}
    if len(fingerprints) != 1:
        raise SystemExit(f"the modes gave different rows: {fingerprints}")
    seconds = {mode: [r["data_s"] for r in rs] for mode, rs in runs.items()}
    md = [
        f"# `kedit run {args.spec}`: the data phase on an empty cache",
        "",
        "| mode | median s | runs (s) |",
        "|---|---|---|",
        *[f"| {mode} | {statistics.median(s):.2f} | {', '.join(f'{x:.2f}' for x in s)} |" for mode, s in seconds.items()],
        "",
        f"Same rows in every run: {runs['read'][0]['fingerprints']}.",
        f"Read from: {runs['read'][0]['read_from']}.",
        f"Load average (1 min): {load}.",
        "",
        f"Machine: {json.dumps(machine())}",
        "",
    ]
    write_results("data_" + Path(args.spec).stem, {"machine": machine(), "spec": args.spec, "seconds": seconds, "load_average": load,
                                                    "fingerprints": runs["read"][0]["fingerprints"]}, "\n".join(md))


if __name__ == "__main__":
    main()
