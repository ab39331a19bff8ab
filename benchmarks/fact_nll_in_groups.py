"""Each fact's NLL, step by step, inside the value optimisation of a spec's batches.

    python benchmarks/fact_nll_in_groups.py benchmarks/sweeps/fact_nll_merge_smollm2.yaml --out fact_nll_merge_smollm2-135m

Issue 19 asked whether a merged group (MEMIT-Merge: one value for all of a subject's facts)
could skip the facts it has already learnt, so that a group of 10 facts does not cost 10 rows
a step to the end. That pays only if facts reach their target one by one while the group goes
on. This runs ``kedit run SPEC`` with the value optimiser's row NLL recorded (the engine is
not changed: its ``first_pass``, ``row_nll``, ``pass_loss`` and ``group_loss`` are wrapped for
this process) and reports, per value run and step, how many facts are under 0.02 / 0.1 and
their mean NLL; and how many facts were ever under 0.02. With one context template (``context_tokens: 0``) a fact is one row.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from common import machine, write_results

THRESHOLDS = (0.02, 0.1)


def record_rows() -> list[list[list[tuple[int, float]]]]:
    """Wrap the optimiser so that each value run (one ``optimize_values`` call, which makes one
    first pass) appends a list to the list returned, and each of its steps its fact rows' (group, NLL)."""
    from kedit.editing.values import loss, optimise

    runs: list[list[list[tuple[int, float]]]] = []
    rows: list[tuple[int, float]] = []
    current = {}
    first_pass, row_nll, pass_loss, group_loss = optimise.first_pass, loss.row_nll, optimise.pass_loss, optimise.group_loss

    def recorded_first_pass(*args, **kwargs):
        runs.append([])
        return first_pass(*args, **kwargs)

    def recorded_row_nll(logp, targets, pred_rows, n_rows):
        out = row_nll(logp, targets, pred_rows, n_rows)
        p = current["pass"]
        facts = ~p.is_kl
        rows.extend(zip(p.group[facts].tolist(), out.detach()[facts].tolist()))
        return out

    def recorded_pass_loss(parts, p, *args):
        current["pass"] = p
        return pass_loss(parts, p, *args)

    def recorded_group_loss(*args, **kwargs):  # called once a step, after every pass
        runs[-1].append(list(rows))
        rows.clear()
        return group_loss(*args, **kwargs)

    optimise.first_pass, loss.row_nll, optimise.pass_loss, optimise.group_loss = recorded_first_pass, recorded_row_nll, recorded_pass_loss, recorded_group_loss
    return runs


def summarise(run: list[list[tuple[int, float]]]) -> dict:
    """Per step: rows computed, share under each threshold, mean NLL; facts ever under 0.02 (None where groups stopped)."""
    per_step = [
        {"step": i + 1, "rows": len(s), "mean_nll": sum(n for _, n in s) / len(s), **{f"under_{t}": sum(n < t for _, n in s) / len(s) for t in THRESHOLDS}}
        for i, s in enumerate(run)
    ]
    # Rows come in pass order, the same every step while no group stops; once one does, a row's
    # place no longer names its fact, so "ever" is counted only for runs where none stopped.
    full = all(len(s) == len(run[0]) for s in run)
    ever = sum(any(s[j][1] < THRESHOLDS[0] for s in run) for j in range(len(run[0]))) if full else None
    return {"groups": len({g for g, _ in run[0]}), "facts": len(run[0]), "steps": len(run), "ever_under_0.02": ever, "per_step": per_step}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("spec")
    p.add_argument("--out", default="fact_nll_in_groups")
    args = p.parse_args()
    runs = record_rows()
    from kedit.cli import main as kedit

    out = Path(tempfile.mkdtemp(prefix="kedit-fact-nll-"))
    try:
        kedit(["run", args.spec, "--out", str(out), "--no-resume"], standalone_mode=False)
    finally:
        summaries = [summarise(r) for r in runs if r]
    md = [f"# Each fact's NLL inside the value runs of `{args.spec}`", "", "| value run | groups | facts | steps | facts ever under 0.02 (– : groups stopped) |", "|---|---|---|---|---|"]
    md += [f"| {i + 1} | {r['groups']} | {r['facts']} | {r['steps']} | {'–' if r['ever_under_0.02'] is None else r['ever_under_0.02']} |" for i, r in enumerate(summaries)]
    for i, r in enumerate(summaries):
        md += ["", f"Run {i + 1} ({r['groups']} groups, {r['facts']} facts), every 4th step:", "", "| step | rows computed | under 0.02 | under 0.1 | mean NLL |", "|---|---|---|---|---|"]
        md += [f"| {s['step']} | {s['rows']} | {s['under_0.02']:.2f} | {s['under_0.1']:.2f} | {s['mean_nll']:.3f} |" for s in r["per_step"] if s["step"] % 4 == 1 or s["step"] == r["steps"]]
    md += ["", f"Machine: {json.dumps(machine())}", ""]
    write_results(args.out, {"machine": machine(), "spec": args.spec, "runs": summaries}, "\n".join(md))


if __name__ == "__main__":
    main()
