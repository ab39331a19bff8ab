"""kedit.models.architecture: the architecture table, and module lookup by template with its errors."""

from __future__ import annotations

import pytest

from kedit.models import ArchitectureError, architecture_for
from kedit.models.architecture import layer_module
from tests.tiny import TINY


def test_every_tiny_architecture_is_in_the_table():
    for model_type in TINY:
        assert architecture_for(model_type).model_type == model_type


def test_modules_resolve_and_gpt2_is_conv1d(tiny):
    w = layer_module(tiny.model, tiny.arch, tiny.arch.mlp_out, 1).weight
    cfg = tiny.model.config.to_dict()
    d_model = cfg.get("n_embd") or cfg["hidden_size"]
    mlp = next(cfg[k] for k in ("n_inner", "intermediate_size", "ffn_hidden_size") if cfg.get(k))
    # nn.Linear stores (out, in); GPT-2's Conv1D stores (in, out)
    assert tuple(w.shape) == ((mlp, d_model) if tiny.arch.conv1d else (d_model, mlp))
    assert tiny.arch.conv1d == (tiny.arch.model_type == "gpt2")
    layer_module(tiny.model, tiny.arch, tiny.arch.attn_out, 0)


def test_unknown_architecture_is_named():
    with pytest.raises(ArchitectureError, match="unsupported model type 'mamba'"):
        architecture_for("mamba")


def test_missing_module_names_type_and_path(tiny):
    from dataclasses import replace

    broken = replace(tiny.arch, mlp_out="model.layers.{}.mlp.no_such_proj")
    with pytest.raises(ArchitectureError, match=rf"'{tiny.arch.model_type}' has no module 'model.layers.1.mlp.no_such_proj'"):
        layer_module(tiny.model, broken, broken.mlp_out, 1)


def test_layer_outside_the_model_is_named(tiny):
    with pytest.raises(ArchitectureError, match="layer 9 is outside the model"):
        layer_module(tiny.model, tiny.arch, tiny.arch.mlp_out, 9)
