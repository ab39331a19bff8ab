"""Statistics in float32 against bfloat16: time of the pass, distance of the moments, and the edits.

    python benchmarks/bench_stats_precision.py [--parts timing error run cell] [--repeats 2]

- ``timing``: the pass over ``--samples`` windows (layers ``--layers``), each precision
  ``--repeats`` times, interleaved, each in its own process with an empty statistics cache;
  wall and CPU seconds (all threads) of the pass, and the load average before and after it
  (the machine is shared: CPU seconds are what other jobs disturb least).
- ``paired``: one batch of the pass (8 windows), the precisions alternating batch by batch in
  one process, ``--pairs`` times: a load that comes and goes hits both alike, so the median
  ratio is the speed-up the shared machine lets through most fairly. ``--threads 1`` keeps the
  pass off the other jobs' cores' barriers (two threads on a shared 2-core machine wait for
  each other at every parallel region, whichever precision runs).
- ``error``: per layer, the relative Frobenius distance ‖C_bf16 − C_f32‖ / ‖C_f32‖ of the
  moments the timed passes made, beside the float32 sampling difference between 1000 and 2000
  windows (both read from the statistics cache, computed there if absent): the tolerance the
  1000-window default already accepts.
- ``run``: the main job, ``kedit run specs/same_subject.yaml``, on an empty cache (a new
  machine) with ``statistics.precision`` set to each precision (a spec under a temporary folder
  that includes the shipped one).
- ``cell``: MEMIT on the whole distinct-subject set (100 edits) with each precision: the same
  target values (optimised once) and the same unedited scores, only C differs.

Each part's results replace that part's in ``benchmarks/results/<out>.json``, except the timed
and the paired passes and the main jobs, which are added to those of earlier sessions (the load differs from one to the next);
``<out>.md`` is written from all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench_run import split
from common import RESULTS, ROOT, machine, run_child

PRECISIONS = ("float32", "bfloat16")
WORK = Path(tempfile.gettempdir()) / "kedit-bench-stats-precision"  # the timed passes' moments, for the error part


def _cache_with_models() -> str:
    """A new, empty KEDIT_CACHE that shares the real cache's converted models (their conversion is no part of statistics)."""
    cache = tempfile.mkdtemp(prefix="kedit-bench-cache-")
    models = Path(os.environ.get("KEDIT_CACHE") or Path.home() / ".cache" / "kedit") / "models"
    if models.exists():
        os.symlink(models, Path(cache) / "models")
    return cache


def _setup(args):
    """(loaded model, corpus, layers) for timed passes, with ``args.threads`` torch threads if given."""
    import torch

    from kedit.models import load_model
    from kedit.stats.corpus import get_corpus

    if args.threads:
        torch.set_num_threads(args.threads)
    return load_model(args.model), get_corpus(), [int(x) for x in args.layers.split(",")]


def child(args) -> dict:
    """One timed pass in this process; its moments are saved to ``args.save``."""
    import torch

    from kedit.stats.moments import accumulate
    from kedit.stats.precision import PRECISIONS as HOW

    loaded, corpus, layers = _setup(args)
    load_before = os.getloadavg()
    t, cpu = time.perf_counter(), time.process_time()
    sums = accumulate(loaded, corpus, layers, args.samples, 128, batch_size=8, progress=False, precision=HOW[args.precision])
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    torch.save({layer: (total / count).float() for layer, (total, count) in sums.items()}, args.save)
    return {"precision": args.precision, "samples": args.samples, "tokens": sums[layers[0]][1], "pass_s": seconds, "cpu_s": cpu, "threads": torch.get_num_threads(),
            "load_before": load_before, "load_after": os.getloadavg()}


def timing(args) -> list[dict]:
    """Each precision ``args.repeats`` times, interleaved, each pass in a process of its own."""
    WORK.mkdir(exist_ok=True)
    rows, session = [], time.strftime("%Y-%m-%d %H:%M")
    for repeat in range(args.repeats):
        for p in args.precisions:  # interleaved: a load that drifts hits both precisions alike
            save = WORK / f"{p}-{repeat}.pt"
            os.environ["KEDIT_CACHE"] = _cache_with_models()
            row = run_child(ROOT / "benchmarks" / "bench_stats_precision.py",
                            ["--model", args.model, "--layers", args.layers, "--samples", str(args.samples), "--precision", p, "--save", str(save),
                             *(["--threads", str(args.threads)] if args.threads else [])])
            os.environ.pop("KEDIT_CACHE")
            rows.append(row | {"repeat": repeat, "moments": str(save), "session": session})
            print(f"{p} #{repeat}: {row['pass_s']:.1f} s, load {row['load_before'][0]:.2f} -> {row['load_after'][0]:.2f}", flush=True)
    return rows


def paired(args) -> dict:
    import statistics

    import torch

    from kedit.stats.moments import accumulate
    from kedit.stats.precision import PRECISIONS as HOW

    loaded, corpus, layers = _setup(args)
    seconds = {p: [] for p in PRECISIONS}
    load_before = os.getloadavg()
    for i in range(args.pairs + 1):  # the first pair warms up (oneDNN primitives, allocator) and is not counted
        for p in PRECISIONS:
            t = time.perf_counter()
            accumulate(loaded, corpus, layers, 8, 128, batch_size=8, progress=False, precision=HOW[p])
            if i:
                seconds[p].append(time.perf_counter() - t)
    median = {p: statistics.median(s) for p, s in seconds.items()}
    out = {"pairs": args.pairs, "threads": torch.get_num_threads(), "median_s": median, "speedup": median["float32"] / median["bfloat16"], "seconds": seconds,
           "load_before": load_before, "load_after": os.getloadavg(), "session": time.strftime("%Y-%m-%d %H:%M")}
    print(out, flush=True)
    return out


def _relative(a, b) -> float:
    return float((a.double() - b.double()).norm() / b.double().norm())


def error(args, timed: list[dict]) -> list[dict]:
    import torch

    from kedit.models import load_model
    from kedit.stats.corpus import get_corpus
    from kedit.stats.moments import second_moments

    loaded = load_model(args.model)
    corpus = get_corpus()
    layers = [int(x) for x in args.layers.split(",")]
    ref = {n: second_moments(loaded, corpus, layers, n, 128, progress=False, precision="float32") for n in (1000, 2000)}
    runs = {(r["precision"], r["repeat"]): torch.load(r["moments"], weights_only=True) for r in timed}
    rows = []
    for layer in layers:
        f32, bf16 = runs[("float32", 0)][layer], runs[("bfloat16", 0)][layer]
        c1000, c2000 = ref[1000][layer].moment, ref[2000][layer].moment
        rows.append({
            "layer": layer,
            "bf16_vs_f32": _relative(bf16, f32),
            "f32_1000_vs_2000": _relative(c1000, c2000),
            "bf16_1000_vs_f32_2000": _relative(bf16, c2000),
            "f32_pass_vs_f32_cache": _relative(f32, c1000),
            "bf16_repeat": _relative(runs[("bfloat16", 1)][layer], bf16) if ("bfloat16", 1) in runs else None,
        })
        print(rows[-1], flush=True)
    return rows


def _spec_copy(folder: Path, shipped: Path, body: str) -> Path:
    path = folder / f"{shipped.stem}.yaml"
    path.write_text(f"include: [{shipped}]\n{body}")
    return path


def run(args) -> list[dict]:
    rows, session = [], time.strftime("%Y-%m-%d %H:%M")
    for p in args.precisions:
        folder = Path(tempfile.mkdtemp(prefix=f"kedit-bench-run-{p}-"))
        spec = _spec_copy(folder, ROOT / "specs" / "same_subject.yaml", f"statistics: {{precision: {p}}}\nreport: {{out: {folder / 'reports'}}}\n")
        env = os.environ | {"HF_HUB_OFFLINE": "1", "KEDIT_CACHE": tempfile.mkdtemp(prefix="kedit-bench-cold-")}  # empty: a new machine
        load_before = os.getloadavg()
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "kedit.cli", "run", str(spec), "--out", str(folder / "report"), "--no-resume"], check=True, env=env, cwd=ROOT)
        wall = time.perf_counter() - t
        report = json.loads((folder / "report" / "report.json").read_text())
        rows.append({
            "precision": p, "resolved": report["spec"]["statistics"]["precision"], "split": split(report) | {"process_wall_s": wall}, "session": session,
            "load_before": load_before, "load_after": os.getloadavg(),
            "metrics": {s["label"]: {k: v for k, v in s["metrics"].items() if k in ("efficacy", "paraphrase", "specificity", "efficacy_exact", "akd")} for s in report["summary"]},
        })
        print(rows[-1], flush=True)
    return rows


def cell(args) -> list[dict]:
    """MEMIT on all 100 distinct-subject edits, once per precision, the values shared."""
    from kedit.experiment.data import materialise
    from kedit.experiment.evaluate import BeforeStates, edit_and_evaluate
    from kedit.experiment.plan import plan
    from kedit.methods import EditContext, StatsSettings, value_store
    from kedit.metrics import get_metric
    from kedit.models import load_model
    from kedit.spec.load import load_spec
    from kedit.stats.corpus import get_corpus

    folder = Path(tempfile.mkdtemp(prefix="kedit-bench-cell-"))
    path = _spec_copy(folder, ROOT / "specs" / "presets" / "distinct_subject_data.yaml",
                      "name: distinct_memit\nmodel: {name: smollm2-135m}\nmethods: [{name: MEMIT}]\nbatch_sizes: [all]\n"
                      "metrics: [efficacy, paraphrase, specificity, efficacy_exact]\n")
    spec = load_spec(path)
    loaded = load_model(**asdict(spec.model))
    corpus = get_corpus(spec.statistics.corpus)
    data = {name: materialise(name, cfg, path.parent) for name, cfg in spec.datasets.items()}
    (batch,) = plan(spec, data, {"code": "", "model": loaded.fingerprint, "corpus": corpus.fingerprint})
    (c,) = batch.cells
    requests = [data[batch.dataset].requests[i] for i in c.rows]
    values = value_store(loaded, keep=True, progress=False)
    t = time.perf_counter()
    values.compute([c.method.config.value_job(EditContext(loaded, values=values, progress=False), requests)])
    values_s = time.perf_counter() - t
    metrics = [get_metric(m) for m in spec.metrics]
    before = BeforeStates()
    rows = []
    for p in PRECISIONS:
        ctx = EditContext(loaded, StatsSettings(corpus=corpus, n_samples=args.samples, precision=p), values=values, progress=False)
        t = time.perf_counter()
        scores = edit_and_evaluate(ctx, c.method, requests, metrics, before)
        rows.append({"precision": p, "n_edits": len(requests), "metrics": scores.metrics, "statistics_s": ctx.stats_seconds,
                     "wall_s": time.perf_counter() - t, "values_s": values_s})
        print(rows[-1], flush=True)
    return rows


def markdown(res: dict, name: str) -> str:
    md = [f"# Statistics precision on {name}: float32 against bfloat16", "",
          "float32: the forward in the model's dtype, the keys' products kᵀk in float32; bfloat16: the forward under torch.autocast, the products",
          "in bfloat16; float64 sums either way (`kedit/stats/precision.py`). Times are of a shared machine: the load average beside each says how",
          "shared. Two torch threads on 2 busy cores wait for each other at every parallel region, whichever the precision, so the 1-thread rows",
          "and the paired batches show the speed of the arithmetic most faithfully.", ""]
    if "timing" in res:
        md += ["## The pass: 1000 windows of 128 tokens, layers " + res["layers"], "",
               "Each pass in its own process on an empty statistics cache, the precisions interleaved; CPU seconds over all threads;",
               "load average (1 min) before → after.", "",
               "| session started | threads | precision | repeat | wall s | CPU s | tokens/s | load |", "|---|---|---|---|---|---|---|---|"]
        md += [f"| {r['session']} | {r['threads']} | {r['precision']} | {r['repeat'] + 1} | {r['pass_s']:.1f} | {r['cpu_s']:.1f} | {r['tokens'] / r['pass_s']:.0f} | {r['load_before'][0]:.2f} → {r['load_after'][0]:.2f} |"
               for r in res["timing"]]
        md.append("")
    for r in res.get("paired", []):
        md += [(f"Paired ({r['session']}, {r['threads']} thread(s)): one batch of 8 windows at a time, the precisions alternating, {r['pairs']} batches each in one process: "
                f"median {r['median_s']['float32']:.2f} s float32, {r['median_s']['bfloat16']:.2f} s bfloat16, **{r['speedup']:.2f}x**; "
                f"load {r['load_before'][0]:.2f} → {r['load_after'][0]:.2f}."), ""]
    if "error" in res:
        md += ["## How far the moments are apart (relative Frobenius distance per layer)", "",
               "| layer | bf16 vs f32 (1000 windows) | f32 1000 vs 2000 windows (accepted) | bf16 1000 vs f32 2000 | f32 pass vs f32 cache | bf16 run vs bf16 run |",
               "|---|---|---|---|---|---|"]
        md += [f"| {r['layer']} | {r['bf16_vs_f32']:.2e} | {r['f32_1000_vs_2000']:.2e} | {r['bf16_1000_vs_f32_2000']:.2e} | {r['f32_pass_vs_f32_cache']:.1e} | "
               + ("–" if r["bf16_repeat"] is None else f"{r['bf16_repeat']:.1e}") + " |" for r in res["error"]]
        md.append("")
    if "run" in res:
        md += ["## The main job on an empty cache (`kedit run specs/same_subject.yaml`, 16 same-subject edits)", "",
               "| session started | precision (resolved) | process wall s | statistics s | value optimisation s | load s | data s | MEMIT efficacy | MEMIT-Merge efficacy / specificity / exact | load |",
               "|---|---|---|---|---|---|---|---|---|---|"]
        for r in res["run"]:
            s, m = r["split"], r["metrics"]
            mm = m["MEMIT-Merge"]
            md.append(f"| {r['session']} | {r['precision']} ({r['resolved']}) | {s['process_wall_s']:.1f} | {s['statistics_s']:.1f} | {s['value_optimisation_s']:.1f} | {s['load_s']:.1f} | {s['data_s']:.1f} | "
                      f"{m['MEMIT']['efficacy']:.3f} | {mm['efficacy']:.3f} / {mm['specificity']:.3f} / {mm['efficacy_exact']:.3f} | {r['load_before'][0]:.2f} → {r['load_after'][0]:.2f} |")
        md.append("")
    if "cell" in res:
        md += ["## MEMIT on the 100 distinct-subject edits (same target values; only C differs)", "",
               "statistics s: read from the cache (float32, computed earlier) or computed in the cell (bfloat16), under the load of the time.", "",
               "| precision | efficacy | paraphrase | specificity | exact | statistics s |", "|---|---|---|---|---|---|"]
        md += [f"| {r['precision']} | {r['metrics']['efficacy']:.3f} | {r['metrics']['paraphrase']:.3f} | {r['metrics']['specificity']:.3f} | {r['metrics']['efficacy_exact']:.3f} | {r['statistics_s']:.1f} |"
               for r in res["cell"]]
        md.append("")
    md += ["Machine: " + json.dumps(res["machine"]), ""]
    return "\n".join(md)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--layers", default="4,5,6,7,8")
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--precisions", nargs="+", default=list(PRECISIONS), choices=PRECISIONS, help="of the timed passes and the main job")
    p.add_argument("--pairs", type=int, default=20, help="batches of each precision in the paired part")
    p.add_argument("--threads", type=int, help="torch threads of the timed and paired passes (default: torch's)")
    p.add_argument("--parts", nargs="+", default=["timing", "paired", "error", "run", "cell"], choices=["timing", "paired", "error", "run", "cell"])
    p.add_argument("--out", default="stats_precision_smollm2-135m")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--precision", help=argparse.SUPPRESS)
    p.add_argument("--save", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    path = RESULTS / f"{args.out}.json"
    res = json.loads(path.read_text()) if path.exists() else {}
    res |= {"machine": machine() | {"cpu_capabilities": _bf16_capabilities()}, "layers": args.layers}
    for part in args.parts:
        if part in ("timing", "paired", "run"):  # kept with those of earlier sessions
            res[part] = res.get(part, []) + {"timing": timing, "paired": lambda a: [paired(a)], "run": run}[part](args)
        else:
            res[part] = error(args, res["timing"][-2 * args.repeats:]) if part == "error" else cell(args)
        res[f"{part}_date"] = time.strftime("%Y-%m-%d %H:%M")
        path.write_text(json.dumps(res, indent=1) + "\n")  # after each part: an interrupted run keeps what it measured
    (RESULTS / f"{args.out}.md").write_text(markdown(res, args.model))
    print(markdown(res, args.model))


def _bf16_capabilities() -> dict:
    """What the statistics' ``auto`` precision reads on this machine (kedit.stats.precision)."""
    import torch

    from kedit.stats.precision import fast_bfloat16

    caps = torch.cpu.get_capabilities()
    return {"avx512_bf16": bool(caps.get("avx512_bf16")), "amx_bf16": bool(caps.get("amx_bf16")), "auto_picks_bfloat16_on_cpu": fast_bfloat16(torch.device("cpu"))}


if __name__ == "__main__":
    main()
