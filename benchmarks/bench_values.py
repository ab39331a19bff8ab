"""Batched value optimisation against the per-edit loop of the reference implementations.

Same model, data, hyper-parameters (the model's MEMIT presets, kedit/models/presets/), steps and seed; each mode
runs MEMIT end to end in its own process so peak memory is its own. Reports wall time of
value optimisation and of the whole edit, peak memory, and efficacy of both (they must agree).

    python benchmarks/bench_values.py [--model smollm2-135m] [--hparams JSON]
                                      [--data datasets/distinct_subject] [--n 100] [--name NAME]
                                      [--modes batched,one_by_one,reference_loop] [--merge]

Modes: ``batched`` (kedit's default), ``one_by_one`` (the same optimiser one edit at a time:
what batching alone gains), ``reference_loop`` (one edit at a time recomputing whole prompts
through every block at every step, as EasyEdit and the original MEMIT code do: what batching
and replaying the frozen lower blocks gain together). ``--merge`` keeps the rows of the
existing result file (same arguments) for the modes not run now.

``--hparams`` overrides the presets, e.g. EasyEdit's Qwen-style MEMIT defaults:
``'{"mom2_update_weight": 15000, "v_lr": 0.5, "v_num_grad_steps": 25, "context_tokens": 10}'``.
"""

from __future__ import annotations

import argparse
import json
import time

from common import RESULTS, ROOT, add_device_arguments, device_suffix, machine, peak_gpu_mib, peak_rss_mib, run_child, write_results

MODES = ("batched", "one_by_one", "reference_loop")


def child(args) -> dict:
    from kedit.stats.corpus import get_corpus
    from kedit.data.store import load_rows
    from kedit.editing.requests import make_requests
    from kedit.experiment.evaluate import edit_and_evaluate
    from kedit.methods import EditContext, MethodRun, StatsSettings, value_store
    from kedit.metrics import get_metric
    from kedit.models import load_model
    from kedit.spec.model import ModelSection

    loaded = load_model(args.model, dtype=args.dtype, device=args.device)
    reqs = make_requests(load_rows(ROOT / args.data)[: args.n])
    ctx = EditContext(loaded, StatsSettings(corpus=get_corpus(), n_samples=2000, max_length=128), values=value_store(loaded, optimiser=args.mode, progress=False), progress=False)
    hparams = ModelSection(name=args.model).preset_hparams().get("MEMIT", {}) | json.loads(args.hparams)
    ctx.second_moments(hparams["layers"])  # cached: not part of the timing
    t = time.perf_counter()
    res = edit_and_evaluate(ctx, MethodRun.of("MEMIT", hparams), reqs, [get_metric("efficacy"), get_metric("specificity")])
    return {
        "mode": args.mode,
        "edits": len(reqs),
        "values_s": res.info["values_s"],
        "edit_s": res.timings["edit_s"],
        "total_s": time.perf_counter() - t,
        "peak_rss_mib": peak_rss_mib(),
        "peak_gpu_mib": peak_gpu_mib(),
        "value_steps_mean": res.info["value_steps_mean"],
        **res.metrics,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--data", default="datasets/distinct_subject")
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--hparams", default="{}", help="JSON overriding the model's MEMIT presets")
    add_device_arguments(p)
    p.add_argument("--name", help="result file name (default: values_batched_vs_loop_<model>)")
    p.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    p.add_argument("--modes", default=",".join(MODES), help="comma-separated modes to run")
    p.add_argument("--merge", action="store_true", help="keep the existing result file's rows of the other modes")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    name = args.name or f"values_batched_vs_loop_{args.model}{device_suffix(args.device, args.dtype)}"
    setting = {k: getattr(args, k) for k in ("model", "data", "n", "hparams", "device", "dtype")}
    common = ["--model", args.model, "--data", args.data, "--n", str(args.n), "--hparams", args.hparams]
    common += ["--device", args.device, "--dtype", args.dtype]
    rows = {}
    if args.merge and (RESULTS / f"{name}.json").exists():
        old = json.loads((RESULTS / f"{name}.json").read_text())
        if {k: old["args"].get(k, p.get_default(k)) for k in setting} != setting:
            raise SystemExit(f"--merge: {name}.json was measured with other arguments: {old['args']}")
        rows = old["rows"]
    rows |= {mode: run_child(ROOT / "benchmarks" / "bench_values.py", common + ["--mode", mode]) for mode in args.modes.split(",")}
    b = rows["batched"]
    loops = [rows[m] for m in MODES[1:] if m in rows]
    speedup = {r["mode"]: r["values_s"] / b["values_s"] for r in loops}
    gpu_mib = lambda r: f"{r['peak_gpu_mib']:.0f}" if r.get("peak_gpu_mib") is not None else "–"  # noqa: E731
    faster = lambda mode: f"{speedup[mode]:.1f}x" if mode in speedup else "–"  # noqa: E731
    md = [
        f"# Value optimisation: batched vs one edit at a time ({args.model}, {b['edits']} edits, {args.device}, {args.dtype})",
        "",
        f"MEMIT with the model's presets (overrides: {args.hparams}); the only difference is how target values are optimised.",
        "",
        "| mode | value optimisation s | whole edit s | peak memory MiB | peak GPU memory MiB | efficacy | specificity | mean steps | batched is faster by |",
        "|---|---|---|---|---|---|---|---|---|",
        *[
            f"| {r['mode']} | {r['values_s']:.1f} | {r['edit_s']:.1f} | {r['peak_rss_mib']:.0f} | {gpu_mib(r)} | {r['efficacy']:.3f} | {r['specificity']:.3f} "
            f"| {r['value_steps_mean']:.1f} | {faster(r['mode'])} |"
            for r in (b, *loops)
        ],
        "",
        "one_by_one: the same optimiser one edit at a time (what batching alone gains); reference_loop: one edit at a time, "
        "whole prompts through every block at every step, as EasyEdit and the original MEMIT code do.",
        "Largest efficacy difference to batched: " + f"{max((abs(b['efficacy'] - r['efficacy']) for r in loops), default=0.0):.3f}.",
        "",
        f"Machine: {json.dumps(machine())}",
        "",
    ]
    write_results(name, {"machine": machine(), "args": vars(args), "rows": rows, "speedup": speedup}, "\n".join(md))


if __name__ == "__main__":
    main()
