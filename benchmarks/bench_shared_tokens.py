"""What computing a group's shared tail tokens once saves a value step, on a spec's batches.

    python benchmarks/bench_shared_tokens.py benchmarks/alone/memit_merge_grouped.yaml specs/same_subject.yaml [--repeats 8]

The rows of a merged group (MEMIT-Merge: one value for all of a subject's facts) agree up to
a point: each reads "{subject}'s ...", and the group's KL row is the subject alone, so the
subject token and "'s" are the same computation in each (``kedit.editing.values.trees``).
For the first value run of ``kedit run SPEC`` (model and statistics cached) this packs the
rows of all groups twice, with those tokens computed once (as kedit does) and with every
token its own (as before), and times one forward/backward of all passes (a value step less
Adam's update) for each, alternating ``--repeats`` times so that a drift in the machine's
speed hits both alike. Also reported: tokens, lines x width, and whether the two gradients agree.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

from common import machine, write_results


def measure(spec: str, repeats: int) -> dict:
    """Run ``kedit run spec`` up to its first value run, measure there, stop the run."""
    import torch

    from kedit.cli import main as kedit
    from kedit.editing.values import first_pass as first_pass_mod
    from kedit.editing.values import optimise, optimisers
    from kedit.editing.values.model_parts import ModelParts
    from kedit.editing.values.rows import build_rows
    from kedit.models.prefix import takes_block_masks

    shared = first_pass_mod.TailTrees

    class Unshared(shared):
        """Every tail token its own node."""

        def nodes(self, *args):
            out = shared.nodes(self, *args)
            base = 10**12 + 10**6 * len(self._ids)
            self._ids[("unshared", len(self._ids))] = -1
            return torch.where(out >= 0, base + torch.arange(out.numel()).view(out.shape), out)

    found: dict = {}

    class Measured(SystemExit):  # kedit's CLI passes SystemExit through; any other exception is an internal error
        pass

    def measured(loaded, requests, groups, layer, templates, settings, sites=None, tokens_per_pass=2048, **kwargs):
        parts = ModelParts.find(loaded, layer, list(sites or [loaded.arch.block]), settings.loss_layer)
        rows, roles = build_rows(requests, groups, templates, settings.kl_prompt)
        G = len(groups)
        pack = {"together": takes_block_masks(parts.model), "tokens_per_pass": tokens_per_pass, "mask_dtype": next(parts.model.parameters()).dtype,
                "pad_id": loaded.tokenizer.pad_token_id or 0, "key_cost": parts.key_cost()}
        layouts = {}
        for name, trees in (("shared", shared), ("unshared", Unshared)):
            first_pass_mod.TailTrees = trees
            start = first_pass_mod.first_pass(loaded, parts, rows, roles, G, tokens_per_pass, True)
            passes = optimise.pack_passes(start.chunks, torch.ones(G, dtype=torch.bool), **pack)
            layouts[name] = (start, passes, [torch.zeros_like(v, requires_grad=True) for v in start.init])
        first_pass_mod.TailTrees = shared
        times = {name: [] for name in layouts}
        for _ in range(repeats):
            for name, (start, passes, deltas) in layouts.items():
                for d in deltas:
                    d.grad = None
                t = time.perf_counter()
                optimise._forward_backward(parts, passes, deltas, start.kl_init, settings.kl_factor, True, G)
                times[name].append(time.perf_counter() - t)
        grads = {name: layouts[name][2][0].grad for name in layouts}
        found.update(
            groups=G,
            rows=len(rows),
            layouts={
                name: {
                    "row_tokens": sum(int((p.tails.cols >= 0).sum()) for p in passes),
                    "columns_computed": sum(p.tails.input_ids.numel() for p in passes),
                    "lines_x_width": [list(p.tails.input_ids.shape) for p in passes],
                    "step_s": sorted(times[name]),
                    "step_median_s": statistics.median(times[name]),
                }
                for name, (_, passes, _) in layouts.items()
            },
            gradient_max_relative_difference=float((grads["shared"] - grads["unshared"]).norm(dim=-1).max() / grads["unshared"].norm(dim=-1).max()),
        )
        raise Measured(0)

    optimisers.VALUE_OPTIMISERS["batched"] = measured
    try:
        kedit(["run", spec, "--out", tempfile.mkdtemp(prefix="kedit-shared-"), "--no-resume"], standalone_mode=False)
    except Measured:
        pass
    if not found:
        sys.exit(f"{spec}: no value run with the batched optimiser")
    return found


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("specs", nargs="+")
    p.add_argument("--repeats", type=int, default=8)
    args = p.parse_args()
    results = {spec: measure(spec, args.repeats) for spec in args.specs}
    md = ["# Shared tail tokens computed once: one value step's forward/backward", "",
          f"Median of {args.repeats} alternating repeats; the first value run of each spec (all its groups).", "",
          "| spec | groups / rows | tokens of the rows | columns computed, shared (lines x width) | unshared | step, shared | unshared | saved | gradients differ by |",
          "|---|---|---|---|---|---|---|---|---|"]
    for spec, r in results.items():
        s, u = r["layouts"]["shared"], r["layouts"]["unshared"]
        md.append(f"| `{spec}` | {r['groups']} / {r['rows']} | {s['row_tokens']} | {s['columns_computed']} ({', '.join('x'.join(map(str, x)) for x in s['lines_x_width'])}) "
                  f"| {u['columns_computed']} ({', '.join('x'.join(map(str, x)) for x in u['lines_x_width'])}) | {s['step_median_s']:.3f} s | {u['step_median_s']:.3f} s "
                  f"| {1 - s['step_median_s'] / u['step_median_s']:.0%} | {r['gradient_max_relative_difference']:.1e} |")
    md += ["", f"Machine: {machine()}", ""]
    write_results("shared_tokens_smollm2-135m", {"machine": machine(), "repeats": args.repeats, "specs": results}, "\n".join(md))


if __name__ == "__main__":
    main()
