"""How MEMIT's edit time and memory grow with the batch size and the model.

    python benchmarks/bench_scaling.py [--models smollm2-135m,gemma3-270m] [--sizes 1,10,100,1000] [--steps 10] [--merge]

``--merge`` keeps the points of the existing result file that this run does not measure
(same step count only), so a costly point can be added without rerunning the others.

Edits are distinct-subject rows of ``datasets/distinct_subject`` with subjects renamed from
kedit's name list, so any batch size has distinct edits. Every point runs MEMIT (no context
prefixes, ``--steps`` value steps with early stopping off, so each point does the same work
per edit) in its own process; time excludes loading and statistics. Writes a PNG of time and
peak memory against batch size, one line per model.
"""

from __future__ import annotations

import argparse
import json
import time

from common import RESULTS, ROOT, add_device_arguments, device_suffix, machine, peak_gpu_mib, peak_rss_mib, run_child, write_results

LAYERS = {"smollm2-135m": [4, 5, 6, 7, 8], "gemma3-270m": [2, 3, 4, 5]}


def child(args) -> dict:
    from kedit.stats.corpus import get_corpus
    from kedit.data.store import load_rows
    from kedit.editing.requests import make_requests
    from kedit.methods import EditContext, StatsSettings, get_method
    from kedit.models import load_model

    rows = load_rows(ROOT / "datasets" / "distinct_subject")
    names = (ROOT / "kedit" / "data" / "names" / "names.txt").read_text().split("\n")
    edits = [dict(r, subject=names[i], paraphrase_prompts=[], neighborhood_prompts=[]) for i, r in zip(range(args.size), (rows * (args.size // len(rows) + 1)))]
    loaded = load_model(args.model, dtype=args.dtype, device=args.device)
    ctx = EditContext(loaded, StatsSettings(corpus=get_corpus(), n_samples=2000, max_length=128), progress=False)
    cfg = get_method("MEMIT").parse(dict(layers=LAYERS[args.model], context_tokens=0, v_num_grad_steps=args.steps, early_stop_loss=0.0, v_lr=1.0, mom2_update_weight=3500))
    ctx.second_moments(cfg.layers)
    before = peak_rss_mib()
    t = time.perf_counter()
    edit = get_method("MEMIT").compute(ctx, make_requests(edits), cfg)
    return {"model": args.model, "size": args.size, "edit_s": time.perf_counter() - t, "values_s": edit.info["values_s"],
            "peak_rss_mib": peak_rss_mib(), "rss_before_edit_mib": before, "peak_gpu_mib": peak_gpu_mib()}


def plot(rows: list[dict], name: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    on_gpu = any(r.get("peak_gpu_mib") is not None for r in rows)
    memory = "peak_gpu_mib" if on_gpu else "peak_rss_mib"
    for model in dict.fromkeys(r["model"] for r in rows):
        pts = sorted((r["size"], r["edit_s"], r[memory]) for r in rows if r["model"] == model)
        a.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=model)
        b.plot([p[0] for p in pts], [p[2] for p in pts], marker="o", label=model)
    for ax, label in ((a, "edit time (s)"), (b, f"peak {'GPU ' if on_gpu else ''}memory (MiB)")):
        ax.set_xscale("log")
        ax.set_xlabel("edits in the batch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    a.set_yscale("log")
    fig.suptitle("MEMIT edit cost vs batch size (value steps fixed)")
    fig.tight_layout()
    name = f"{name}.png"
    fig.savefig(RESULTS / name, dpi=120)
    plt.close(fig)
    return name


def merge_points(new: list[dict], path, steps: int) -> list[dict]:
    """``new`` plus the points of an earlier result file that ``new`` does not remeasure, sorted by model and size."""
    measured = {(r["model"], r["size"]) for r in new}
    old = json.loads(path.read_text())["rows"] if path.exists() else []
    kept = [r for r in old if r.get("steps", steps) == steps and (r["model"], r["size"]) not in measured]
    order = list(dict.fromkeys(r["model"] for r in old + new))
    return sorted(kept + new, key=lambda r: (order.index(r["model"]), r["size"]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--models", default="smollm2-135m,gemma3-270m")
    p.add_argument("--sizes", default="1,10,100,1000")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--merge", action="store_true", help="keep the existing result file's other points")
    add_device_arguments(p)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, help=argparse.SUPPRESS)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    rows = [
        run_child(ROOT / "benchmarks" / "bench_scaling.py", ["--model", m, "--size", s, "--steps", str(args.steps), "--device", args.device, "--dtype", args.dtype])
        | {"steps": args.steps}
        for m in args.models.split(",")
        for s in args.sizes.split(",")
    ]
    name = "scaling_batch_size" + device_suffix(args.device, args.dtype)
    if args.merge:
        rows = merge_points(rows, RESULTS / f"{name}.json", args.steps)
    png = plot(rows, name)
    md = [
        f"# MEMIT edit cost vs batch size ({args.steps} value steps, no context prefixes; {args.device}, {args.dtype})",
        "",
        "| model | edits | edit s | of which values s | s per edit | peak MiB | peak GPU MiB |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {r['model']} | {r['size']} | {r['edit_s']:.1f} | {r['values_s']:.1f} | {r['edit_s'] / r['size']:.2f} | {r['peak_rss_mib']:.0f} "
            f"| {'–' if r.get('peak_gpu_mib') is None else round(r['peak_gpu_mib'])} |"
            for r in rows
        ],
        "",
        f"![{png}]({png})",
        "",
        f"Machine: {json.dumps(machine())}",
        "",
    ]
    write_results(name, {"machine": machine(), "rows": rows}, "\n".join(md))


if __name__ == "__main__":
    main()
