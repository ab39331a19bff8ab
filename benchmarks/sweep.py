"""Hyper-parameter sweep: one edit batch per setting, metrics and value-optimisation diagnostics.

    python benchmarks/sweep.py benchmarks/sweeps/smollm2_16.yaml [--out NAME]

The sweep file lists runs: ``{data: datasets/..., n: 16, method: MEMIT, hparams: {...}}``,
optionally a top-level ``model`` and ``statistics`` ({n_samples, max_length}). Results are
appended run by run to ``benchmarks/results/<NAME>.jsonl`` (so an interrupted sweep keeps
what it measured) and summarised in ``<NAME>.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import yaml

from common import RESULTS, ROOT, machine

COLUMNS = ("efficacy", "paraphrase", "specificity", "akd", "akd_collisions")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("sweep")
    p.add_argument("--out", help="result name (default: the sweep file's stem)")
    args = p.parse_args()
    sweep = yaml.safe_load(Path(args.sweep).read_text())
    name = args.out or Path(args.sweep).stem
    log = RESULTS / f"{name}.jsonl"
    RESULTS.mkdir(parents=True, exist_ok=True)

    from kedit.stats.corpus import get_corpus
    from kedit.data.store import load_rows
    from kedit.editing.requests import make_requests
    from kedit.experiment.evaluate import edit_and_evaluate
    from kedit.methods import EditContext, MethodRun, StatsSettings
    from kedit.metrics import get_metric
    from kedit.models import load_model

    loaded = load_model(sweep.get("model", "smollm2-135m"))
    st = sweep.get("statistics", {})
    ctx = EditContext(loaded, StatsSettings(corpus=get_corpus(), n_samples=st.get("n_samples", 2000), max_length=st.get("max_length", 128)), progress=False)
    done = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    for run in sweep["runs"]:
        if any(d["run"] == run for d in done):
            continue
        reqs = make_requests(load_rows(ROOT / run["data"])[: run["n"]])
        t = time.perf_counter()
        res = edit_and_evaluate(ctx, MethodRun.of(run["method"], run.get("hparams", {})), reqs, [get_metric(m) for m in ("efficacy", "paraphrase", "specificity", "akd")])
        row = {
            "run": run,
            "metrics": {k: res.metrics[k] for k in COLUMNS},
            "edit_s": res.timings["edit_s"],
            "wall_s": time.perf_counter() - t,
            # diagnostics of target values; None for a method without them (FT-L)
            "value_steps_mean": res.info.get("value_steps_mean"),
            "value_nll_mean": res.info.get("value_nll_mean"),
            "residual_norm_by_layer": res.info.get("residual_norm_by_layer"),
        }
        with log.open("a") as f:
            f.write(json.dumps(row) + "\n")
        done.append(row)
        print(json.dumps(row), flush=True)
    md = [
        f"# Sweep `{args.sweep}` on {sweep.get('model', 'smollm2-135m')}",
        "",
        "| data | n | method | settings | eff. | para. | spec. | AKD | value NLL | edit s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for d in done:
        r, m = d["run"], d["metrics"]
        hp = ", ".join(f"{k}={v}" for k, v in r.get("hparams", {}).items())
        nll = "–" if d["value_nll_mean"] is None else f"{d['value_nll_mean']:.3f}"
        md.append(f"| {Path(r['data']).name} | {r['n']} | {r['method']} | {hp} | {m['efficacy']:.3f} | {m['paraphrase']:.3f} | {m['specificity']:.3f} | {m['akd']:.2f} | {nll} | {d['edit_s']:.0f} |")
    md += ["", f"Machine: {json.dumps(machine())}", ""]
    (RESULTS / f"{name}.md").write_text("\n".join(md))


if __name__ == "__main__":
    main()
