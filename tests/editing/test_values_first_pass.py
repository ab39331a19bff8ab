"""kedit.editing.values.first_pass: initial values and KL distributions, and the chunks replayed;
states that overflow the model's dtype are named; rows that do not fit a sliding window are recomputed whole."""

from __future__ import annotations

import pytest
import torch

from kedit.editing.requests import group_indices, make_requests
from kedit.editing.tokens import encode_rows, subject_row
from kedit.editing.values import optimize_values
from kedit.editing.values.first_pass import first_pass
from kedit.editing.values.model_parts import ModelParts
from kedit.editing.values.rows import build_rows
from kedit.methods import get_method
from kedit.models.architecture import get_module, layer_module
from kedit.models.hooks import record
from tests.tiny import TINY_HP

TEMPLATES = ["{}", "Hello there. {}"]


def run_first_pass(loaded, reqs, groups, sites, reuse_frozen=True, tokens_per_pass=2048):
    parts = ModelParts.find(loaded, 2, sites, None)
    rows, roles = build_rows(reqs, groups, TEMPLATES, "{} is a")
    return first_pass(loaded, parts, rows, roles, len(groups), tokens_per_pass, reuse_frozen), rows


def alone(loaded, prompt: str, subject: str, module):
    """A plain forward of one prompt: ``module``'s output and the log-probabilities at the subject's last token."""
    enc = encode_rows(loaded.tokenizer, [subject_row(prompt, subject)])
    with record({"out": (module, "output")}) as seen:
        logits = loaded.model(input_ids=enc.input_ids, attention_mask=enc.attention_mask).logits
    at = int(enc.subject_pos[0])
    return seen["out"][0, at], torch.log_softmax(logits[0, at].float(), -1)


@pytest.mark.parametrize("site", ["block", "mlp_out"])
def test_initial_values_and_kl_distributions_are_those_of_each_group_prompt_run_alone(small, reqs, site):
    groups = group_indices(reqs, "subject")
    start, _ = run_first_pass(small, reqs, groups, [getattr(small.arch, site)])
    module = layer_module(small.model, small.arch, getattr(small.arch, site), 2)
    assert start.init[0].shape == (len(groups), start.init[0].shape[1]) and start.init[0].dtype == torch.float32
    assert start.kl_init.shape == (len(groups), len(small.tokenizer))
    for g, members in enumerate(groups):
        first = reqs[members[0]]
        value, _ = alone(small, first.prompt, first.subject, module)
        _, kl = alone(small, "{} is a", first.subject, module)
        torch.testing.assert_close(start.init[0][g], value)
        torch.testing.assert_close(start.kl_init[g], kl)


def test_without_reuse_whole_rows_are_kept_and_the_initial_reads_do_not_change(small, reqs):
    groups = group_indices(reqs, None)
    sites = [small.arch.attn_out, small.arch.mlp_out]
    cut, rows = run_first_pass(small, reqs, groups, sites)
    whole, _ = run_first_pass(small, reqs, groups, sites, reuse_frozen=False)
    for a, b in zip(cut.init + [cut.kl_init], whole.init + [whole.kl_init]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    n_rows = sum(len(c.group) for c in cut.chunks)
    assert n_rows == sum(len(c.group) for c in whole.chunks) == len(rows)
    for c in cut.chunks:  # tails start at the subject's last token
        assert (c.subject == 0).all() and c.split.kv != []
        assert c.hidden_in.shape[:2] == c.split.input_ids.shape
    for c in whole.chunks:  # tails are whole rows: nothing cached
        assert (c.subject > 0).any() and c.split.kv == [] and c.split.prefix_mask.shape[1] == 0
        assert c.hidden_in.shape[:2] == c.split.input_ids.shape


def test_a_small_token_budget_cuts_the_rows_into_more_chunks_with_the_same_reads(small, reqs):
    groups = group_indices(reqs, None)
    one, rows = run_first_pass(small, reqs, groups, [small.arch.block])
    many, _ = run_first_pass(small, reqs, groups, [small.arch.block], tokens_per_pass=8)
    assert len(one.chunks) < len(many.chunks) and sum(len(c.group) for c in many.chunks) == len(rows)
    torch.testing.assert_close(one.init[0], many.init[0])
    torch.testing.assert_close(one.kl_init, many.kl_init)


def test_states_that_overflow_are_named_before_any_value_step(tokenizer, raw_requests):
    """float16 overflows in some models' activations (Gemma 3's, measured); kedit says so
    instead of optimising NaN values into the weights."""
    from kedit.editing.values import NonFiniteError
    from tests.tiny import make_tiny

    loaded = make_tiny("llama", tokenizer, dtype=torch.float16)
    with torch.no_grad():  # block 0's MLP output exceeds float16's range (65504)
        for name in ("gate_proj", "up_proj", "down_proj"):
            get_module(loaded.model, f"model.layers.0.mlp.{name}").weight.fill_(1e3)
    reqs = make_requests(raw_requests)
    cfg = get_method("MEMIT").parse(TINY_HP)
    with pytest.raises(NonFiniteError, match=r"not finite in torch.float16"):
        optimize_values(loaded, reqs, group_indices(reqs, None), 2, ["{}"], cfg.value_settings())


def test_values_are_the_same_when_the_window_forbids_a_cached_prefix(tokenizer, raw_requests, monkeypatch):
    """Gemma's sliding window counts cache slots; when a row would not fit, whole rows are recomputed."""
    from kedit.editing.values import first_pass as values_mod
    from tests.tiny import make_tiny

    loaded = make_tiny("gemma3_text", tokenizer)
    reqs = make_requests(raw_requests)
    cfg = get_method("MEMIT").parse(TINY_HP)
    split = optimize_values(loaded, reqs, group_indices(reqs, None), 2, ["{}", "Hello there. {}"], cfg.value_settings())
    monkeypatch.setattr(values_mod, "fits_window", lambda model, width: False)
    whole = optimize_values(loaded, reqs, group_indices(reqs, None), 2, ["{}", "Hello there. {}"], cfg.value_settings())
    # float32: cached prefix against whole rows sums in another order (measured 3.0e-6 on values
    # of norm 7.8: 0.2 % of the tolerance); a prefix cut by the window would move them O(norm)
    torch.testing.assert_close(whole.values[0], split.values[0], rtol=0, atol=1e-4 * float(split.values[0].norm(dim=1).max()))
