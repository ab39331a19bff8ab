"""Edit specs: the JSON Schema (generated from the configs), loading with located errors, and the resolved form."""

from kedit.spec.load import Problem, SpecError, load_spec
from kedit.spec.model import Spec

__all__ = ["Problem", "Spec", "SpecError", "load_spec"]
