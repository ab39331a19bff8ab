"""Second-moment statistics: throughput against a full-model forward, memory, and growth with samples.

    python benchmarks/bench_stats.py [--model smollm2-135m] [--layers 4,5,6,7,8] [--samples 125,250,500]

Each sample count runs in its own process, with an empty statistics cache, so times and peak
memory are its own. Larger counts (10k, 50k, 100k windows) are extrapolated linearly from
the measured ones — the pass is a stream, so time grows with windows and memory does not.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from common import ROOT, machine, peak_rss_mib, run_child, write_results


def child(args) -> dict:
    import os

    os.environ["KEDIT_CACHE"] = tempfile.mkdtemp(prefix="kedit-bench-stats-")
    from kedit.stats.corpus import get_corpus
    from kedit.stats.moments import accumulate, windows
    from kedit.models import load_model

    loaded = load_model(args.model)  # de-quantised weights come from ~/.cache via the model loader
    corpus = get_corpus()
    layers = [int(x) for x in args.layers.split(",")]
    t = time.perf_counter()
    _, count = accumulate(loaded, corpus, layers, args.samples, 128, batch_size=8, progress=False)[layers[0]]
    stats_s = time.perf_counter() - t
    # the same windows through the whole model (logits included), for comparison
    import torch

    ws = [w for _, w in zip(range(args.samples), windows(loaded.tokenizer, corpus, 128))]
    t = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(ws), 8):
            batch = ws[i : i + 8]
            width = max(map(len, batch))
            ids = torch.tensor([w + [0] * (width - len(w)) for w in batch])
            mask = torch.tensor([[1] * len(w) + [0] * (width - len(w)) for w in batch])
            loaded.model(input_ids=ids, attention_mask=mask)
    full_s = time.perf_counter() - t
    return {"samples": args.samples, "tokens": count, "stats_s": stats_s, "stats_tokens_per_s": count / stats_s,
            "full_forward_s": full_s, "full_tokens_per_s": count / full_s, "peak_rss_mib": peak_rss_mib()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--layers", default="4,5,6,7,8")
    p.add_argument("--samples", default="125,250,500")
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        args.samples = args.n
        print(json.dumps(child(args)))
        return
    rows = [run_child(ROOT / "benchmarks" / "bench_stats.py", ["--model", args.model, "--layers", args.layers, "--n", n]) for n in args.samples.split(",")]
    per_window = rows[-1]["stats_s"] / rows[-1]["samples"]
    extrapolated = {n: n * per_window for n in (10_000, 50_000, 100_000)}
    md = [
        f"# Second-moment statistics on {args.model} (layers {args.layers}, windows of 128 tokens)",
        "",
        "| windows | tokens | statistics s | tokens/s | full forward s | tokens/s (full) | peak MiB |",
        "|---|---|---|---|---|---|---|",
        *[f"| {r['samples']} | {r['tokens']} | {r['stats_s']:.1f} | {r['stats_tokens_per_s']:.0f} | {r['full_forward_s']:.1f} | {r['full_tokens_per_s']:.0f} | {r['peak_rss_mib']:.0f} |" for r in rows],
        "",
        "Extrapolated (linear in windows from the largest measured run; not measured): "
        + ", ".join(f"{n:,} windows ≈ {s / 60:.0f} min" for n, s in extrapolated.items()),
        "",
        "The offline corpus holds about 4,000 windows of 128 tokens; larger counts need a bigger corpus (`hf:` or text files).",
        "",
        f"Machine: {json.dumps(machine())}",
        "",
    ]
    write_results(f"stats_{args.model}", {"machine": machine(), "rows": rows, "extrapolated_s": extrapolated}, "\n".join(md))


if __name__ == "__main__":
    main()
