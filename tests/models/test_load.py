"""The architecture table and model loading errors."""

from __future__ import annotations

import pytest

from kedit.models import ArchitectureError, ModelLoadError, architecture_for, load_model
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


def test_missing_gguf_and_unknown_dtype_are_clear(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(str(tmp_path / "nope.gguf"))
    with pytest.raises(ModelLoadError, match="unknown dtype 'int3'"):
        load_model("smollm2-135m", dtype="int3")


def test_a_device_this_machine_lacks_is_named_before_anything_loads():
    with pytest.raises(ModelLoadError, match=r"'cuda:99': (no CUDA device is available|this machine has)"):
        load_model("no-such-model-is-read", device="cuda:99")
    with pytest.raises(ModelLoadError, match="unknown device 'gpu0'"):
        load_model("no-such-model-is-read", device="gpu0")


def test_a_missing_local_model_directory_is_clear(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot load model"):
        load_model(str(tmp_path / "no-model-here"))


@pytest.mark.parametrize("device_map", [None, "auto"])
def test_a_saved_model_directory_loads_with_and_without_device_map(tmp_path, tokenizer, device_map):
    """The path users take for their own checkpoints: a directory, in bfloat16, optionally placed
    by accelerate (on a machine without GPUs ``auto`` puts every module on the CPU)."""
    import torch

    from tests.tiny import make_tiny

    tiny = make_tiny("llama", tokenizer)
    tiny.model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded = load_model(str(tmp_path), dtype="bfloat16", device_map=device_map)
    assert loaded.arch.model_type == "llama" and loaded.source == str(tmp_path)
    assert {p.dtype for p in loaded.model.parameters()} == {torch.bfloat16}
    assert loaded.fingerprint == make_tiny("llama", tokenizer, dtype=torch.bfloat16).fingerprint
    assert loaded.device.type == "cpu" and not loaded.block_returns_tuple
