"""Batched value optimisation against the per-edit loop of the reference implementations.

Same model, data, hyper-parameters (the preset's MEMIT settings), steps and seed; each mode
runs MEMIT end to end in its own process so peak memory is its own. Reports wall time of
value optimisation and of the whole edit, peak memory, and efficacy of both (they must agree).

    python benchmarks/bench_values.py [--model smollm2-135m] [--preset specs/presets/smollm2-135m.yaml]
                                      [--hparams JSON] [--data datasets/distinct_subject] [--n 100] [--name NAME]

``--hparams`` overrides the preset, e.g. EasyEdit's Qwen-style MEMIT defaults:
``'{"mom2_update_weight": 15000, "v_lr": 0.5, "v_num_grad_steps": 25, "context_tokens": 10}'``.
"""

from __future__ import annotations

import argparse
import json
import time

from common import ROOT, machine, peak_rss_mib, preset_hparams, run_child, write_results

MODES = ("batched", "one_by_one")


def child(args) -> dict:
    from kedit.corpus import get_corpus
    from kedit.data.store import load_rows
    from kedit.editing.requests import make_requests
    from kedit.evaluate import edit_and_evaluate
    from kedit.methods import EditContext, StatsSettings
    from kedit.models import load_model

    loaded = load_model(args.model)
    reqs = make_requests(load_rows(ROOT / args.data)[: args.n])
    ctx = EditContext(loaded, StatsSettings(corpus=get_corpus(), n_samples=2000, max_length=128), progress=False, value_optimiser=args.mode)
    hparams = preset_hparams(args.preset, "MEMIT") | json.loads(args.hparams)
    ctx.second_moments(hparams["layers"])  # cached: not part of the timing
    t = time.perf_counter()
    res = edit_and_evaluate(ctx, "MEMIT", hparams, reqs, ["efficacy", "specificity"])
    return {
        "mode": args.mode,
        "edits": len(reqs),
        "values_s": res.info["values_s"],
        "edit_s": res.timings["edit_s"],
        "total_s": time.perf_counter() - t,
        "peak_rss_mib": peak_rss_mib(),
        "value_steps_mean": res.info["value_steps_mean"],
        **res.metrics,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--preset", default="specs/presets/smollm2-135m.yaml")
    p.add_argument("--data", default="datasets/distinct_subject")
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--hparams", default="{}", help="JSON overriding the preset's MEMIT hyper-parameters")
    p.add_argument("--name", help="result file name (default: values_batched_vs_loop_<model>)")
    p.add_argument("--mode", choices=MODES)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    common = ["--model", args.model, "--preset", args.preset, "--data", args.data, "--n", str(args.n), "--hparams", args.hparams]
    rows = {mode: run_child(ROOT / "benchmarks" / "bench_values.py", common + ["--mode", mode]) for mode in MODES}
    b, loop = rows["batched"], rows["one_by_one"]
    speedup = loop["values_s"] / b["values_s"]
    md = [
        f"# Value optimisation: batched vs one edit at a time ({args.model}, {b['edits']} edits)",
        "",
        f"MEMIT with the preset's settings (overrides: {args.hparams}); the only difference is how target values are optimised.",
        "",
        "| mode | value optimisation s | whole edit s | peak memory MiB | efficacy | specificity | mean steps |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {r['mode']} | {r['values_s']:.1f} | {r['edit_s']:.1f} | {r['peak_rss_mib']:.0f} | {r['efficacy']:.3f} | {r['specificity']:.3f} | {r['value_steps_mean']:.1f} |"
            for r in (b, loop)
        ],
        "",
        f"Speed-up of value optimisation: **{speedup:.1f}x**; efficacy difference {abs(b['efficacy'] - loop['efficacy']):.3f}.",
        "",
        f"Machine: {json.dumps(machine())}",
        "",
    ]
    write_results(args.name or f"values_batched_vs_loop_{args.model}", {"machine": machine(), "args": vars(args), "rows": rows, "speedup": speedup}, "\n".join(md))


if __name__ == "__main__":
    main()
