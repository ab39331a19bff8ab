"""Where the editable pieces of each supported architecture live.

The table itself is data (``architectures.yaml``); this module turns a row of it into
an :class:`Architecture` and resolves its path templates against a loaded model.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import torch
import yaml
from torch import nn


class ArchitectureError(ValueError):
    """A model whose type or modules kedit cannot locate."""


@dataclass(frozen=True)
class Architecture:
    """Module path templates of one architecture ("{}" is a layer index)."""

    model_type: str
    backbone: str  # decoder without head; output is final-normed
    layers: str  # ModuleList of decoder blocks
    mlp_out: str  # MLP output projection: the edited weight; keys are its inputs
    attn_out: str  # attention output projection
    final_norm: str
    conv1d: bool  # GPT-2 Conv1D: weight stored (in, out), not nn.Linear's (out, in)
    post_mlp_norm: str | None = None  # norm between MLP output and residual (post-norm blocks)

    @property
    def block(self) -> str:
        """Path template of a whole decoder block; its output is the residual stream."""
        return self.layers + ".{}"


@cache
def _table() -> dict[str, dict]:
    return yaml.safe_load(files("kedit.models").joinpath("architectures.yaml").read_text())


def supported_model_types() -> list[str]:
    return sorted(_table())


def architecture_for(model_type: str) -> Architecture:
    row = _table().get(model_type)
    if row is None:
        raise ArchitectureError(
            f"unsupported model type {model_type!r}: kedit knows {', '.join(supported_model_types())} "
            "(add a row to kedit/models/architectures.yaml)"
        )
    return Architecture(model_type=model_type, **row)


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
