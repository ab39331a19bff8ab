"""kedit.editing.values.optimise: the Adam loop's early stop and clamp, and what it returns."""

from __future__ import annotations

import dataclasses

import torch

from kedit.editing.requests import group_indices
from kedit.editing.values import optimize_values

TEMPLATES = ["{}", "Hello there. {}"]


def test_a_group_under_the_early_stop_loss_stops_after_its_first_step_with_no_delta(small, reqs, settings):
    stop_at_once = dataclasses.replace(settings, early_stop_loss=1e9)
    res = optimize_values(small, reqs, group_indices(reqs, None), 2, TEMPLATES, stop_at_once)
    assert res.steps.tolist() == [1, 1, 1, 1]
    assert torch.equal(res.deltas[0], torch.zeros_like(res.deltas[0])) and torch.equal(res.values[0], res.init[0])


def test_without_early_stop_every_group_takes_every_step_and_its_loss_falls(small, reqs, settings):
    groups, settings = group_indices(reqs, "subject"), dataclasses.replace(settings, v_lr=5.0)  # a tiny random model barely listens to layer 2
    first = optimize_values(small, reqs, groups, 2, TEMPLATES, dataclasses.replace(settings, v_num_grad_steps=1))
    res = optimize_values(small, reqs, groups, 2, TEMPLATES, settings)
    assert res.steps.tolist() == [settings.v_num_grad_steps] * len(groups)
    assert res.values[0].shape == res.init[0].shape == (len(groups), small.model.config.hidden_size)
    assert res.loss.shape == res.nll.shape == (len(groups),)
    assert (res.nll < first.nll).all() and (res.loss >= res.nll).all()
    torch.testing.assert_close(res.values[0], res.init[0] + res.deltas[0], rtol=0, atol=0)


def test_each_sites_delta_stays_within_the_clamp_and_reaches_it_with_a_large_step(small, reqs, settings):
    clamped = dataclasses.replace(settings, clamp_norm_factor=0.05, v_lr=5.0)
    res = optimize_values(small, reqs, group_indices(reqs, None), 2, TEMPLATES, clamped, sites=[small.arch.attn_out, small.arch.mlp_out])
    assert len(res.deltas) == 2
    for init, delta in zip(res.init, res.deltas):
        ratio = delta.norm(dim=-1) / init.norm(dim=-1)
        assert (ratio <= 0.05 * (1 + 1e-5)).all()
        torch.testing.assert_close(ratio, torch.full_like(ratio, 0.05))
