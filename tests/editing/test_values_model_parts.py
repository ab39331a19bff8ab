"""kedit.editing.values.model_parts: the modules hooked and the head read."""

from __future__ import annotations

import pytest
import torch

from kedit.editing.values.model_parts import ModelParts


def test_the_loss_layer_defaults_to_the_last_and_may_not_sit_below_the_edited_layer(small):
    parts = ModelParts.find(small, 2, [small.arch.block, small.arch.mlp_out], None)
    assert parts.loss_block is parts.blocks[small.n_layers - 1] and len(parts.sites) == 2
    assert ModelParts.find(small, 2, [small.arch.block], 2).loss_block is parts.blocks[2]
    with pytest.raises(ValueError, match="loss_layer 1 is below the layer 2"):
        ModelParts.find(small, 2, [small.arch.block], 1)


def test_next_token_log_probabilities_are_float32_and_normalised(small):
    parts = ModelParts.find(small, 2, [small.arch.block], None)
    d = small.model.config.hidden_size
    logp = parts.next_token_logp(torch.randn(3, d, generator=torch.Generator().manual_seed(0)))
    assert logp.shape == (3, len(small.tokenizer)) and logp.dtype == torch.float32
    torch.testing.assert_close(logp.logsumexp(-1), torch.zeros(3))
