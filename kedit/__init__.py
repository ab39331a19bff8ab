"""kedit: reproducible batch knowledge editing (MEMIT, MEMIT-Merge and their family)."""

__version__ = "0.2.0"
