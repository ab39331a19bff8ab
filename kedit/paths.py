"""Where kedit keeps what it caches: ``$KEDIT_CACHE``, else ``~/.cache/kedit``."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    root = Path(os.environ.get("KEDIT_CACHE") or Path.home() / ".cache" / "kedit")
    root.mkdir(parents=True, exist_ok=True)
    return root
