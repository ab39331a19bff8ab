"""Editing methods. Importing this package registers every method in ``METHODS``."""

from kedit.methods import alphaedit, ft, memit, pmet  # noqa: F401  (register the methods)
from kedit.methods.base import METHODS, Edit, EditContext, StatsSettings, apply_edit, get_method, make_config, restore

__all__ = ["METHODS", "Edit", "EditContext", "StatsSettings", "apply_edit", "get_method", "make_config", "restore"]
