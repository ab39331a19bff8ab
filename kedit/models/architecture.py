"""Module lookup by template: an :class:`~kedit.models.table.Architecture`'s path templates
resolved against a loaded model, with errors that name the model type and path.

The table of architectures itself is data (``architectures.yaml``, read by
:mod:`kedit.models.table`, which needs no engine).
"""

from __future__ import annotations

import torch
from torch import nn

from kedit.models.table import Architecture, ArchitectureError


def get_module(model: nn.Module, path: str, model_type: str = "?") -> nn.Module:
    """``model.get_submodule(path)`` with an error that names the model type and path."""
    try:
        return model.get_submodule(path)
    except AttributeError as e:
        raise ArchitectureError(f"model type {model_type!r} has no module {path!r} ({e})") from None


def num_layers(model: nn.Module, arch: Architecture) -> int:
    return len(get_module(model, arch.layers, arch.model_type))


def layer_module(model: nn.Module, arch: Architecture, template: str, layer: int) -> nn.Module:
    """The module at ``template.format(layer)``, checking the layer index first."""
    n = num_layers(model, arch)
    if not 0 <= layer < n:
        raise ArchitectureError(f"layer {layer} is outside the model ({arch.model_type!r} has layers 0..{n - 1})")
    return get_module(model, template.format(layer), arch.model_type)


def norm_gain(norm: nn.Module, d: int, like: torch.Tensor) -> torch.Tensor:
    """The per-feature gain ``g`` of an RMS norm ``f(x) = x / rms(x) * g``: ``f(ones)`` (rms(ones) = 1),
    computed in ``like``'s dtype and returned (d,) float32 on ``like``'s device."""
    return norm(torch.ones(1, d, dtype=like.dtype, device=like.device))[0].float().to(like.device)


def head_logits(model: nn.Module, hidden: torch.Tensor) -> torch.Tensor:
    """Logits from final-normed hidden states ``(..., d)`` -> ``(..., vocab)``, with Gemma's soft-capping.

    The head is the model's output embedding, whatever the architecture names it."""
    logits = model.get_output_embeddings()(hidden)
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits
