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
    """A path is not a Hub repo id: no "Repo id must be in the form ..." for a typo in a folder name."""
    with pytest.raises(ModelLoadError, match=r"model path .*no-model-here does not exist") as err:
        load_model(str(tmp_path / "no-model-here"))
    assert "repo id must be" not in str(err.value).lower()


def test_an_empty_model_folder_or_one_without_config_is_named(tmp_path):
    with pytest.raises(ModelLoadError, match=r"model folder .* has no config\.json \(it is empty\)"):
        load_model(str(tmp_path))
    (tmp_path / "weights.bin").write_bytes(b"")
    with pytest.raises(ModelLoadError, match=r"has no config\.json \(it holds weights\.bin\)"):
        load_model(str(tmp_path))


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


@pytest.fixture
def fake_gguf(tmp_path, tokenizer, monkeypatch):
    """A GGUF "conversion" that builds the tiny llama instead (and counts its calls), with the cache in tmp_path."""
    import kedit.models.load as load
    from tests.tiny import make_tiny

    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path / "cache"))
    calls = []

    def model_from_gguf(where, gguf_file=None, **kw):
        calls.append(gguf_file)
        return make_tiny("llama", tokenizer).model

    monkeypatch.setattr(load.AutoModelForCausalLM, "from_pretrained", model_from_gguf)
    monkeypatch.setattr(load.AutoTokenizer, "from_pretrained", lambda where, gguf_file=None, **kw: tokenizer)
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF, or so it says")
    return gguf, calls


def test_the_dequantised_model_cache_is_checked_and_rebuilt_when_altered(fake_gguf, caplog):
    import logging
    import os

    from kedit.models.load import CHECKSUMS, _dequantised_dir

    gguf, calls = fake_gguf
    old = os.umask(0o022)
    try:
        folder = _dequantised_dir(gguf)
    finally:
        os.umask(old)
    assert len(calls) == 1 and (folder / CHECKSUMS).is_file()
    assert {oct(p.stat().st_mode & 0o777) for p in folder.iterdir()} == {"0o644"} and oct(folder.stat().st_mode & 0o777) == "0o755"
    assert _dequantised_dir(gguf) == folder and len(calls) == 1, "a checked cache is used"
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        assert _dequantised_dir(gguf) == folder
    assert len(calls) == 2 and f"dequantised model cache {folder} is unusable" in caplog.text
    assert "model.safetensors does not match its checksum" in caplog.text
    assert weights.read_bytes() != bytes(data) and not list(folder.parent.glob(".bad-*")), "rebuilt, the bad copy removed"


def test_a_dequantised_model_cache_from_before_checksums_is_kept_and_gets_them(fake_gguf):
    from kedit.models.load import CHECKSUMS, _dequantised_dir

    gguf, calls = fake_gguf
    folder = _dequantised_dir(gguf)
    sums = (folder / CHECKSUMS).read_text()
    (folder / CHECKSUMS).unlink()
    assert _dequantised_dir(gguf) == folder and len(calls) == 1
    assert (folder / CHECKSUMS).read_text() == sums
