"""Editing methods. Importing this package registers every method in ``METHODS`` with its
config (:mod:`kedit.methods.configs`) and imports no engine: a method's ``compute`` and the
engine-side names below (``EditContext``, ``apply_edit``, ...) are imported on first use."""

from kedit.methods import configs  # noqa: F401  (register the methods)
from kedit.methods.registry import METHODS, Method, MethodConfig, MethodRun, get_method
from kedit.util import lazy_exports

__getattr__ = lazy_exports(__name__, {
    "EditContext": "kedit.methods.context",
    "StatsSettings": "kedit.methods.context",
    "value_store": "kedit.methods.context",
    "Edit": "kedit.methods.weights",
    "apply_edit": "kedit.methods.weights",
    "restore": "kedit.methods.weights",
})

__all__ = ["METHODS", "Edit", "EditContext", "Method", "MethodConfig", "MethodRun", "StatsSettings", "apply_edit", "get_method", "restore", "value_store"]
