"""kedit.editing.keys: one key per request, at the subject's last token."""

from __future__ import annotations

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
