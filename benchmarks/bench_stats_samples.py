"""How many statistics windows the edits need: one spec's cells scored at several sample counts.

    python benchmarks/bench_stats_samples.py specs/table1.yaml specs/same_subject.yaml \
        --samples 100 250 500 1000 2000 4000 [--out stats_samples_smollm2-135m]

Every cell of each spec (methods that use no statistics, FT-L, are skipped) is edited and
scored once per sample count. Target values do not depend on the statistics, so they are
optimised once per batch and shared by every count (the run path's own value store); the
unedited model's scores are shared too. What changes between counts is only the second
moment C in the solve. Results are appended per cell to ``benchmarks/results/<out>.jsonl``
(an interrupted sweep keeps what it measured) and summarised in ``<out>.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

from common import RESULTS, machine

SHOWN = ("efficacy", "paraphrase", "specificity", "efficacy_exact")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("specs", nargs="+", type=Path)
    p.add_argument("--samples", nargs="+", type=int, default=[100, 250, 500, 1000, 2000, 4000])
    p.add_argument("--out", default="stats_samples_smollm2-135m")
    args = p.parse_args()

    from kedit.experiment.data import materialise
    from kedit.experiment.evaluate import BeforeStates, edit_and_evaluate
    from kedit.experiment.plan import plan
    from kedit.methods import EditContext, StatsSettings, value_store
    from kedit.metrics import get_metric
    from kedit.models import load_model
    from kedit.spec.load import load_spec
    from kedit.stats.corpus import get_corpus

    log = RESULTS / f"{args.out}.jsonl"
    done = {(r["spec"], r["n_samples"], r["dataset"], r["label"], r["batch_index"]) for r in map(json.loads, log.read_text().splitlines())} if log.exists() else set()
    specs = [load_spec(s) for s in args.specs]
    loaded = load_model(**asdict(specs[0].model))
    corpus = get_corpus(specs[0].statistics.corpus)
    for spec in specs:
        data = {name: materialise(name, cfg, Path(spec.source).parent) for name, cfg in spec.datasets.items()}
        batches = plan(spec, data, {"code": "", "model": loaded.fingerprint, "corpus": corpus.fingerprint})
        metrics = [get_metric(m) for m in spec.metrics]
        values = value_store(loaded, keep=True, progress=False)
        before = {id(b): BeforeStates() for b in batches}
        first = EditContext(loaded, values=values, progress=False)
        for batch in batches:  # as `kedit run` does: the batch's values optimised together, once
            rows = [data[batch.dataset].requests[i] for i in batch.cells[0].rows]
            values.compute([job for c in batch.cells if (job := c.method.config.value_job(first, rows)) is not None])
        for n in args.samples:
            ctx = EditContext(loaded, StatsSettings(corpus=corpus, n_samples=n, max_length=spec.statistics.max_length, precision=spec.statistics.precision), values=values, progress=False)
            for batch in batches:
                requests = data[batch.dataset].requests
                for cell in batch.cells:
                    key = (spec.name, n, cell.dataset, cell.method.label, cell.batch_index)
                    if cell.method.name == "FT-L" or key in done:
                        continue
                    t, stats0 = time.perf_counter(), ctx.stats_seconds
                    scores = edit_and_evaluate(ctx, cell.method, [requests[i] for i in cell.rows], metrics, before[id(batch)])
                    row = {
                        "spec": spec.name, "n_samples": n, "dataset": cell.dataset, "label": cell.method.label,
                        "batch_index": cell.batch_index, "batch_size": cell.batch_size, "n_edits": len(cell.rows),
                        "metrics": scores.metrics, "statistics_s": ctx.stats_seconds - stats0, "wall_s": time.perf_counter() - t,
                    }
                    with log.open("a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(f"{spec.name} n={n} {cell.dataset} {cell.method.label}: " + ", ".join(f"{m} {scores.metrics[m]:.3f}" for m in SHOWN if m in scores.metrics), flush=True)
    summarise(log, args.out)


def summarise(log: Path, name: str) -> None:
    """One table per spec: rows dataset x method, columns sample counts, cells efficacy / specificity / paraphrase."""
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    counts = sorted({r["n_samples"] for r in rows})
    lines = [f"# Edit quality against the number of statistics windows ({name})", ""]
    lines += [
        "Each cell: efficacy / specificity / paraphrase (efficacy_exact where measured) of one batch, with the same",
        "target values at every count (only the second moment C in the solve changes). Windows of 128 tokens from the",
        "offline corpus `wikipedia-sample`; 4000 is about all it holds.",
        "",
    ]
    for spec in dict.fromkeys(r["spec"] for r in rows):
        lines += [f"## {spec}", "", "| dataset | method | n edits | " + " | ".join(f"{c} windows" for c in counts) + " |", "|---|---|---|" + "---|" * len(counts)]
        for ds, label in dict.fromkeys((r["dataset"], r["label"]) for r in rows if r["spec"] == spec):
            got = {r["n_samples"]: r for r in rows if (r["spec"], r["dataset"], r["label"]) == (spec, ds, label)}
            cells = []
            for c in counts:
                m = got[c]["metrics"] if c in got else None
                cells.append("–" if m is None else " / ".join(f"{m[k]:.3f}" for k in ("efficacy", "specificity", "paraphrase")) + (f" (exact {m['efficacy_exact']:.2f})" if m.get("efficacy_exact") is not None else ""))
            n_edits = next(iter(got.values()))["n_edits"]
            lines.append(f"| {ds} | {label} | {n_edits} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["Machine: " + json.dumps(machine()), ""]
    (RESULTS / f"{name}.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
