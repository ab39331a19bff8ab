"""kedit.editing.keys: one key per request, at the subject's last token."""

from __future__ import annotations

import pytest
import torch

from kedit.editing.keys import compute_keys
from kedit.editing.requests import make_requests
from kedit.models.architecture import layer_module


def test_keys_have_one_row_per_request_and_the_projection_input_width(tiny, raw_requests):
    reqs = make_requests(raw_requests)
    d_in = layer_module(tiny.model, tiny.arch, tiny.arch.mlp_out, 1)
    d_in = d_in.weight.shape[0] if tiny.arch.conv1d else d_in.weight.shape[1]
    keys = compute_keys(tiny, reqs, 1, ["{}", "Hello there. {}"])
    assert keys.shape == (len(reqs), d_in)
    # The subject comes first in both John Smith prompts: causal attention gives them one key.
    torch.testing.assert_close(keys[1], keys[2])
    assert not torch.allclose(keys[0], keys[1])


@pytest.mark.parametrize("rows_per_pass", [256, 2])
def test_keys_read_on_rows_cut_after_the_subject_equal_those_read_on_the_whole_prompt(tiny, raw_requests, rows_per_pass, monkeypatch):
    """subject_states feeds each pass only up to its last subject position (what follows cannot
    reach it under causal attention), rows sorted by that position across passes: the states
    are those of the whole rows, in the requests' order, every architecture."""
    from kedit.editing import keys
    from kedit.editing.keys import subject_states
    from kedit.editing.tokens import encode_rows, subject_row
    from kedit.models.hooks import gather_at, record

    monkeypatch.setattr(keys, "ROWS_PER_PASS", rows_per_pass)

    reqs = make_requests(raw_requests)
    templates = ["{}", "Hello there. {}"]
    module = layer_module(tiny.model, tiny.arch, tiny.arch.mlp_out, 1)
    cut = subject_states(tiny, reqs, templates, {"k": (tiny.arch.mlp_out, 1, "input")})["k"]
    enc = encode_rows(tiny.tokenizer, [subject_row(t.format(r.prompt), r.subject) for r in reqs for t in templates])
    assert int(enc.subject_pos.max()) + 1 < enc.input_ids.shape[1]  # something is cut
    assert not bool((enc.subject_pos.diff() >= 0).all())  # the rows are not in length order: sorting them matters
    with torch.no_grad(), record({"k": (module, "input")}) as seen:
        tiny.model(input_ids=enc.input_ids, attention_mask=enc.attention_mask)
    whole = gather_at(seen["k"], torch.arange(len(enc.input_ids)), enc.subject_pos, "cpu").float().view(len(reqs), len(templates), -1)
    torch.testing.assert_close(cut, whole, rtol=1e-5, atol=1e-5)
