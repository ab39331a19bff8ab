"""kedit.editing.values.optimise: the Adam loop's early stop and clamp, and what it returns;
merged groups share one value; passes packed several rows to a line or one row per line agree."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from kedit.editing.requests import group_indices, make_requests
from kedit.editing.values import optimize_values
from kedit.methods import get_method
from tests.tiny import TINY_HP

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
        # 1e-5: the norms are float32 (rounding ~1e-7 x sqrt(d)); an unclamped Adam step of lr 5
        # (~5 per coordinate) is many times over 0.05 of the initial value's norm
        assert (ratio <= 0.05 * (1 + 1e-5)).all()
        torch.testing.assert_close(ratio, torch.full_like(ratio, 0.05))


def test_merged_groups_share_one_value_and_sum_their_losses(tiny, raw_requests):
    reqs = make_requests(raw_requests)
    groups = group_indices(reqs, "subject")
    assert groups == [[0], [1, 2], [3]]
    cfg = get_method("MEMIT-Merge").parse(TINY_HP)
    res = optimize_values(tiny, reqs, groups, 2, ["{}"], cfg.value_settings())
    assert res.values[0].shape[0] == 3


@pytest.mark.parametrize("by", [None, "subject"])
def test_values_are_the_same_with_rows_packed_into_lines_or_one_row_per_line(tiny, raw_requests, monkeypatch, by):
    """Packing tails several to a line (eager/SDPA attention), the tokens a group's rows share
    computed once (its subject token, and "'s" where two facts of a merged group read "{}'s"),
    changes only the layout of the passes; flash attention, which takes no block mask, runs
    one row per line, every token its own."""
    from kedit.editing.values import optimise as values_mod

    reqs = make_requests(raw_requests)
    cfg = get_method("MEMIT").parse(TINY_HP)
    run = lambda: optimize_values(tiny, reqs, group_indices(reqs, by), 2, ["{}", "Hello there. {}"], cfg.value_settings())  # noqa: E731
    packed = run()
    monkeypatch.setattr(values_mod, "takes_block_masks", lambda model: False)
    per_line = run()
    assert torch.equal(packed.steps, per_line.steps)
    # float32: a block-masked packed line sums attention in another order than a padded row
    # (measured: at most 0.5 % of this tolerance, qwen2); a row attending to another row's
    # tokens through a wrong mask moves its value O(its norm)
    torch.testing.assert_close(packed.values[0], per_line.values[0], rtol=0, atol=1e-4 * float(per_line.values[0].norm(dim=1).max()))


def test_early_stop_on_nll_stops_a_group_whose_facts_are_learnt_however_high_its_loss(small, reqs, settings):
    from kedit.editing.values.optimise import STOP_MEASURES
    from kedit.methods.configs import STOP_ON

    assert set(STOP_ON) == set(STOP_MEASURES)  # every value a spec may name has a measure
    groups = group_indices(reqs, "subject")[:1]  # one group: a threshold between its first and second NLL
    strong = dataclasses.replace(settings, v_lr=5.0, v_weight_decay=1e6)  # from the second step on, the decay term dwarfs the NLL
    first = optimize_values(small, reqs, groups, 2, TEMPLATES, dataclasses.replace(strong, v_num_grad_steps=1))
    second = optimize_values(small, reqs, groups, 2, TEMPLATES, dataclasses.replace(strong, v_num_grad_steps=2))
    threshold = (float(first.nll) + float(second.nll)) / 2  # the second step's NLL is under it, the first's over it
    assert float(second.nll) < threshold < float(first.nll) and float(second.loss) > 2 * threshold, "the setting this test needs"
    stop_at = dataclasses.replace(strong, v_num_grad_steps=6, early_stop_loss=threshold)
    by_nll = optimize_values(small, reqs, groups, 2, TEMPLATES, dataclasses.replace(stop_at, early_stop_on="nll"))
    by_loss = optimize_values(small, reqs, groups, 2, TEMPLATES, stop_at)
    assert by_nll.steps.tolist() == [2] * len(groups)
    assert by_loss.steps.tolist() == [6] * len(groups)
    torch.testing.assert_close(by_nll.values[0], second.values[0], rtol=0, atol=0)


def test_an_unknown_early_stop_measure_is_named():
    with pytest.raises(ValueError, match=r"early_stop_on must be one of \('loss', 'nll'\), got 'nl'"):
        get_method("MEMIT").parse({"early_stop_on": "nl"})


@pytest.mark.skipif(torch.get_num_threads() < 2, reason="the order of a parallel sum varies only with several threads")
def test_the_same_inputs_give_the_same_values_bit_for_bit(tokenizer):
    """Run to run, not only to float rounding: a report's figures must not move between two
    runs of one spec. Ten groups of ten facts at a width of 576 make the gradient of the
    shared deltas a sum large enough that torch splits it over threads (measured: the
    advanced-indexing gather's backward gave different bits on every run)."""
    import transformers

    from kedit.models import prepare

    config = transformers.LlamaConfig(vocab_size=len(tokenizer), hidden_size=576, intermediate_size=64, num_hidden_layers=3, num_attention_heads=9, num_key_value_heads=3,
                                      pad_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    loaded = prepare(transformers.AutoModelForCausalLM.from_config(config), tokenizer, name="wide-llama", source="random", device="cpu")
    subjects = ["John Smith", "Alice Brown", "Thomas Ong", "Michel Rocard", "Bob Jones", "Danielle Darrieux", "Lee Kuan Yew", "Mark Twain", "Tokyo", "Paris"]
    objects = ["French", "Tokyo", "Google", "painter", "actor", "Microsoft", "Singapore", "London", "Paris", "fox"]
    reqs = make_requests([dict(subject=s, prompt="{}'s birthplace is" if j % 2 else "The employer of {} is", target_new=o) for s in subjects for j, o in enumerate(objects)])
    settings = get_method("MEMIT-Merge").parse({**TINY_HP, "v_num_grad_steps": 3, "early_stop_loss": 0.0}).value_settings()
    runs = [optimize_values(loaded, reqs, group_indices(reqs, "subject"), 1, ["{}"], settings).deltas[0] for _ in range(4)]
    assert runs[0].abs().sum() > 0
    assert all(torch.equal(runs[0], r) for r in runs[1:])
