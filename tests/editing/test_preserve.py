"""kedit.editing.preserve: other subjects' keys an update keeps (preserve_subjects)."""

from __future__ import annotations

import pytest
import torch

from kedit.data.subjects import load_names
from kedit.editing.preserve import preserved_keys, preserved_names, swapped_requests
from kedit.editing.requests import make_requests
from kedit.methods import apply_edit, get_method, restore
from tests.tiny import TINY_HP, ctx_for, make_tiny, mlp_outputs


def test_preserved_names_avoid_the_batch_and_its_scored_prompts(raw_requests):
    builtin = load_names("builtin")
    raw_requests[0]["neighborhood_prompts"] = [{"prompt": f"{builtin[5]}'s mother tongue is", "target": "French"}]
    raw_requests[1]["subject"] = builtin[7]
    reqs = make_requests(raw_requests)
    names = preserved_names(reqs, len(builtin) - 2)  # every name but the two
    assert builtin[5] not in names and builtin[7] not in names
    assert preserved_names(reqs, 30, seed=1) == preserved_names(reqs, 30, seed=1) != preserved_names(reqs, 30, seed=2)
    with pytest.raises(ValueError, match="built-in list offers"):
        preserved_names(reqs, len(builtin))


def test_each_name_takes_the_place_of_one_edit_subject_in_turn(raw_requests):
    reqs = make_requests(raw_requests)
    swapped = swapped_requests(reqs, ["A B", "C D", "E F", "G H", "I J", "K L"])
    assert [(s.subject, s.prompt) for s in swapped] == [
        ("A B", reqs[0].prompt), ("C D", reqs[1].prompt), ("E F", reqs[2].prompt), ("G H", reqs[3].prompt), ("I J", reqs[0].prompt), ("K L", reqs[1].prompt)
    ]


def test_the_keys_are_the_other_subjects_keys_read_once_per_batch(tokenizer, raw_requests, corpus):
    from kedit.editing.keys import compute_keys

    tiny = make_tiny("llama", tokenizer)
    reqs = make_requests(raw_requests)
    keys = preserved_keys(tiny, reqs, [1, 2], ["{}"], 12)
    others = swapped_requests(reqs, preserved_names(reqs, 12))
    for layer in (1, 2):
        assert keys[layer].shape == (12, tiny.model.config.intermediate_size)
        torch.testing.assert_close(keys[layer], compute_keys(tiny, others, layer, ["{}"]))
    ctx = ctx_for(tiny, corpus)
    first = ctx.other_subject_keys(reqs, [1, 2], ["{}"], 12)
    assert ctx.other_subject_keys(reqs, [1, 2], ["{}"], 12) is first
    assert ctx.other_subject_keys(reqs[:2], [1, 2], ["{}"], 12) is not first


@pytest.mark.parametrize(("method", "at_most"), [("MEMIT", 0.5), ("PMET", 0.5), ("AlphaEdit", 0.95)])
def test_preserving_other_subjects_moves_their_outputs_less(tokenizer, raw_requests, corpus, method, at_most):
    """The update changes the MLP output at other subjects' keys less when the solve keeps them
    (MEMIT, PMET: to 0.09 and 0.08 of it at μ = 10; AlphaEdit, whose update already avoids the
    corpus keys' span and adds kept keys as K_p K_pᵀ P, to 0.88: measured on the tiny llama)."""
    tiny = make_tiny("llama", tokenizer)
    reqs = make_requests(raw_requests)
    others = swapped_requests(reqs, preserved_names(reqs, 64))
    base = mlp_outputs(tiny, others, 2)
    moved = {}
    for n in (0, 64):
        hp = TINY_HP | {"layers": [2], "context_tokens": 0, "preserve_subjects": n, "preserve_weight": 10.0}
        if method == "AlphaEdit":
            hp = {k: v for k, v in hp.items() if k != "mom2_update_weight"} | {"L2": 1.0}
        edit = get_method(method).compute(ctx_for(tiny, corpus), reqs, get_method(method).parse(hp))
        originals = apply_edit(tiny, edit)
        moved[n] = float((mlp_outputs(tiny, others, 2) - base).norm())
        restore(tiny, originals)
    assert moved[64] < at_most * moved[0], moved
