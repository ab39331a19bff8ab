"""kedit.methods.pmet: attention and MLP deltas, and each layer's share of the stream move."""

from __future__ import annotations

import torch

from kedit.editing.requests import group_indices, make_requests
from kedit.editing.values import optimize_values
from kedit.methods import apply_edit, get_method, restore
from tests.tiny import METHOD_HP, ctx_for, mlp_outputs


def test_pmet_optimises_attention_and_mlp_deltas_but_values_the_mlp(tiny, raw_requests):
    cfg = get_method("PMET").parse(METHOD_HP["PMET"])
    reqs = make_requests(raw_requests)
    sites = [tiny.arch.attn_out, tiny.arch.mlp_out]
    res = optimize_values(tiny, reqs, group_indices(reqs, None), 2, ["{}"], cfg.value_settings(), sites=sites)
    assert len(res.values) == 2 and all(d.abs().sum() > 0 for d in res.deltas)
    for delta, init in zip(res.deltas, res.init):  # each clamped relative to its own initial value
        # + 1e-4: the clamp rescales in float32 (measured up to 1.5e-8 over it); the smallest
        # clamp radius is 6.6e-3 (olmo2), so a delta clamped by the other site's norm still fails
        assert (delta.norm(dim=1) <= cfg.clamp_norm_factor * init.norm(dim=1) + 1e-4).all()


def test_pmet_asks_each_layer_for_its_share_of_the_stream_move_its_mlp_value_needs(tiny, raw_requests, corpus):
    """PMET's value is an MLP output at the last layer (2). Layer 1 of [1, 2] must move the
    residual stream by 1/sqrt(2) of what reaching that value moves it: the value minus the
    current MLP output where the MLP output is added as is, the post-MLP norm's change in
    post-norm blocks (Gemma), where the raw difference is in another space."""
    from kedit.methods.post_norm import mlp_change, stream_change

    reqs = make_requests([raw_requests[i] for i in (0, 1, 3)])  # distinct subjects: distinct keys
    ctx = ctx_for(tiny, corpus)
    cfg = get_method("PMET").parse(METHOD_HP["PMET"] | {"context_tokens": 0, "mom2_update_weight": 1e-9})
    sites = [tiny.arch.attn_out, tiny.arch.mlp_out]
    value = optimize_values(tiny, reqs, group_indices(reqs, None), 2, ["{}"], cfg.value_settings(), sites=sites).values[-1]
    mlp1_before = mlp_outputs(tiny, reqs, 1)
    share = stream_change(tiny, 2, mlp_outputs(tiny, reqs, 2), value) / 2**0.5
    asked = mlp_change(tiny, 1, mlp1_before, share)
    originals = apply_edit(tiny, get_method("PMET").compute(ctx, reqs, cfg))
    got = mlp_outputs(tiny, reqs, 1) - mlp1_before  # layer 2's update cannot reach layer 1
    restore(tiny, originals)
    # as MEMIT's least-squares test (tests/methods/test_memit.py): measured at most 3e-8, 2e-4
    # of the tolerance (falcon); a wrong share (1/2 instead of 1/sqrt(2)) misses by 30 %
    torch.testing.assert_close(got, asked, rtol=0, atol=1e-3 * float(asked.norm(dim=1).max()))
