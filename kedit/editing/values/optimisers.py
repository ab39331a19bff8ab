"""The value optimisers by name: all groups at once, one group at a time, and the reference loop."""

from __future__ import annotations

from functools import partial

from tqdm.auto import tqdm

from kedit.editing.values.optimise import optimize_values
from kedit.editing.values.settings import ValueResult


def optimize_values_one_by_one(
    loaded, requests, groups, layer, templates, settings, sites=None, tokens_per_pass: int = 2048, progress: bool = False, reuse_frozen: bool = True
) -> ValueResult:
    """The reference implementations' loop: each group optimised alone, one after another;
    with ``reuse_frozen=False`` also at their cost per step (whole prompts through every block).

    Same results as :func:`optimize_values` up to float rounding (see the tests); kept for
    benchmarks and for checking that equivalence.
    """
    parts = [
        optimize_values(loaded, [requests[i] for i in members], [list(range(len(members)))], layer, templates, settings, sites, tokens_per_pass, reuse_frozen=reuse_frozen)
        for members in tqdm(groups, desc="values, one group at a time", unit="group", disable=not progress, leave=False)
    ]
    return ValueResult.concat(parts)


VALUE_OPTIMISERS = {
    "batched": optimize_values,
    "one_by_one": optimize_values_one_by_one,
    "reference_loop": partial(optimize_values_one_by_one, reuse_frozen=False),
}
