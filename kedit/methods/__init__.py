"""Editing methods. Importing this package registers every method in ``METHODS``."""

from kedit.methods import alphaedit, ft, memit, pmet  # noqa: F401  (register the methods)
from kedit.methods.context import EditContext, StatsSettings, value_store
from kedit.methods.registry import METHODS, Method, MethodConfig, MethodRun, get_method
from kedit.methods.weights import Edit, apply_edit, restore

__all__ = ["METHODS", "Edit", "EditContext", "Method", "MethodConfig", "MethodRun", "StatsSettings", "apply_edit", "get_method", "restore", "value_store"]
