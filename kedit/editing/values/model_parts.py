"""The modules the value optimiser hooks and reads, looked up once per call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from kedit.models.architecture import get_module, head_logits, layer_module


@dataclass(frozen=True)
class ModelParts:
    """Where the deltas go in and where the loss is read out."""

    model: nn.Module
    device: torch.device  # where the optimiser's own tensors live (``loaded.device``)
    sites: list[nn.Module]  # modules at ``layer`` whose outputs get the deltas
    blocks: nn.ModuleList  # the decoder blocks
    layer: int  # the layer whose output is optimised
    loss_block: nn.Module  # the block whose output is scored (``loss_layer``)
    final_norm: nn.Module
    block_returns_tuple: bool  # see ``LoadedModel.block_returns_tuple``

    @classmethod
    def find(cls, loaded, layer: int, sites: Sequence[str], loss_layer: int | None) -> ModelParts:
        """sites: module path templates; loss_layer: None for the model's last layer."""
        model, arch = loaded.model, loaded.arch
        loss_layer = loaded.n_layers - 1 if loss_layer is None else loss_layer
        if loss_layer < layer:
            raise ValueError(f"loss_layer {loss_layer} is below the layer {layer} whose output is optimised")
        site_modules = [layer_module(model, arch, s, layer) for s in sites]
        blocks = get_module(model, arch.layers, arch.model_type)
        final_norm = get_module(model, arch.final_norm, arch.model_type)
        return cls(model, loaded.device, site_modules, blocks, layer, blocks[loss_layer], final_norm, loaded.block_returns_tuple)

    def key_cost(self) -> float:
        """One attended key's cost to a token in a block, relative to the token's pass through
        the block's weights: 4 x heads x head_dim FLOPs (scores and weighted sum) against 2 x
        the block's parameters (~3.5e-4 for SmolLM2-135M)."""
        config = self.model.config.get_text_config()
        heads = config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        return 4 * heads * head_dim / (2 * sum(p.numel() for p in self.loss_block.parameters()))

    def next_token_logp(self, h: torch.Tensor) -> torch.Tensor:
        """(n, d) states of the loss layer -> (n, vocab) float32 log-probabilities, on ``device``."""
        return torch.log_softmax(head_logits(self.model, self.final_norm(h)).float(), -1).to(self.device)
