"""kedit: reproducible batch knowledge editing (MEMIT, MEMIT-Merge and their family)."""

__version__ = "0.1.0"
