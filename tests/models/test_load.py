"""kedit.models.load: model loading errors, and a saved model directory that loads."""

from __future__ import annotations

import pytest

from kedit.models import ModelLoadError, load_model


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
