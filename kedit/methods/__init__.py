"""Editing methods. Importing this package registers every method in ``METHODS``."""

from kedit.methods import memit  # noqa: F401  (registers MEMIT, MEMIT-Merge)
from kedit.methods.base import METHODS, Edit, EditContext, StatsSettings, apply_edit, get_method, make_config, restore

__all__ = ["METHODS", "Edit", "EditContext", "StatsSettings", "apply_edit", "get_method", "make_config", "restore"]
