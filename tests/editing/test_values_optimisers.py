"""kedit.editing.values.optimisers: the batched optimiser against one edit at a time and the reference loop,
on a tiny random model of every supported architecture."""

from __future__ import annotations

import pytest
import torch

from kedit.editing.requests import group_indices, make_requests
from kedit.editing.values import optimize_values
from kedit.methods import get_method
from kedit.models.architecture import layer_module
from tests.tiny import TINY_HP, ctx_for


@pytest.mark.parametrize("group_by", [None, "subject"])
def test_batched_value_optimisation_matches_one_edit_at_a_time(tiny, raw_requests, group_by):
    """Adam is element-wise and rows do not interact, so each group follows its solo trajectory.

    Tolerance: float32 rounding differs between a batched and a single-row matmul; after
    the optimisation it stays below 1e-4 relative to the value's norm (measured on the 14 tiny
    architectures, torch 2.13 CPU: at most 1.5 % of the tolerance, 2.3e-5 on values of norm 5.0
    for olmo2). A group that followed another trajectory (another row's loss, shared Adam
    state) lands O(its norm) away.
    """
    from kedit.editing.values import optimize_values_one_by_one

    reqs = make_requests(raw_requests)
    cfg = get_method("MEMIT").parse(TINY_HP | {"v_num_grad_steps": 8})
    templates = ctx_for(tiny, None).templates(cfg.context_tokens)
    groups = group_indices(reqs, group_by)
    together = optimize_values(tiny, reqs, groups, 2, templates, cfg.value_settings())
    alone = optimize_values_one_by_one(tiny, reqs, groups, 2, templates, cfg.value_settings())
    assert together.steps.tolist() == alone.steps.tolist()
    scale = float(alone.values[0].norm(dim=1).max())
    torch.testing.assert_close(together.values[0], alone.values[0], rtol=0, atol=1e-4 * scale)


def test_the_reference_loop_recomputes_the_frozen_blocks_at_every_step_and_agrees(tiny, raw_requests):
    """``reference_loop`` runs block 0's MLP at every step (kedit's optimisers only in their
    first pass) and reaches the same values as the batched optimiser."""
    from kedit.editing.values import VALUE_OPTIMISERS

    reqs = make_requests(raw_requests)
    cfg = get_method("MEMIT").parse(TINY_HP | {"v_num_grad_steps": 5, "early_stop_loss": 0.0})
    templates = ctx_for(tiny, None).templates(cfg.context_tokens)
    groups = group_indices(reqs, None)
    first_mlp = layer_module(tiny.model, tiny.arch, tiny.arch.mlp_out, 0)
    runs = {}
    for name in ("one_by_one", "reference_loop", "batched"):
        calls = []
        handle = first_mlp.register_forward_hook(lambda *_: calls.append(1))
        try:
            res = VALUE_OPTIMISERS[name](tiny, reqs, groups, 2, templates, cfg.value_settings())
        finally:
            handle.remove()
        runs[name] = (res, len(calls))
    first_passes = runs["one_by_one"][1]  # per edit, its first pass only: then replayed
    assert first_passes >= len(groups)
    assert runs["reference_loop"][1] == first_passes * (1 + 5)  # and again at each of the 5 steps
    batched, ref = runs["batched"][0], runs["reference_loop"][0]
    assert batched.steps.tolist() == ref.steps.tolist()
    scale = float(ref.values[0].norm(dim=1).max())
    # float32 rounding of batched against per-edit matmuls, as in the test above (measured: at
    # most 1.1 % of it, olmo2); replaying stale frozen states would move the values O(their norm)
    torch.testing.assert_close(batched.values[0], ref.values[0], rtol=0, atol=1e-4 * scale)
