"""Model loading and the architecture table."""

from kedit.models.architecture import Architecture, ArchitectureError, architecture_for
from kedit.models.load import DEFAULT_MODEL, EMBEDDED, LoadedModel, ModelLoadError, check_device, load_model, prepare

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
]
