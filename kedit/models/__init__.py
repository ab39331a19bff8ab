"""Model loading and the architecture table. Importing this package imports no engine: the
embedded names (:mod:`kedit.models.embedded`) and the architecture table
(:mod:`kedit.models.table`) are light; loading (``load_model``, ``prepare``, ...) imports
torch and transformers on first use."""

from kedit.models.embedded import DEFAULT_MODEL, EMBEDDED, ModelLoadError
from kedit.models.table import Architecture, ArchitectureError, architecture_for, supported_model_types
from kedit.util import lazy_exports

__getattr__ = lazy_exports(__name__, {
    "LoadedModel": "kedit.models.load",
    "check_device": "kedit.models.load",
    "load_model": "kedit.models.load",
    "prepare": "kedit.models.load",
})

__all__ = [
    "Architecture",
    "ArchitectureError",
    "architecture_for",
    "check_device",
    "DEFAULT_MODEL",
    "EMBEDDED",
    "LoadedModel",
    "ModelLoadError",
    "load_model",
    "prepare",
    "supported_model_types",
]
