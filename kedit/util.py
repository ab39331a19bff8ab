"""Plumbing every layer shares: atomic file writes, canonical JSON and its hash, and config
fields that carry their help text.

Nothing here knows about models, specs or data; every module that writes a file, takes a
fingerprint or declares a config field uses these, so each job has one implementation.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import MISSING, field
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``; when the block ends without error it is moved onto
    ``path`` (a reader never sees a half-written file), else removed.

    The file gets the mode a normal new file gets under the user's umask (``0o666 & ~umask``),
    not the 0600 of a temporary file, so colleagues sharing a folder can read it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write text (UTF-8) or bytes to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)


def canonical_json(value) -> str:
    """JSON with sorted keys and no spaces: the form every fingerprint and key is taken of."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sha256(value) -> str:
    """Hex SHA-256 of a string's UTF-8 bytes, or of any other value's :func:`canonical_json`."""
    return hashlib.sha256((value if isinstance(value, str) else canonical_json(value)).encode()).hexdigest()


def help_field(default=MISSING, help: str = "", **metadata):
    """A dataclass field carrying its help text and JSON Schema keywords (``minimum=0``,
    ``minItems=1``, ...) in its metadata; the spec schema is generated from them.
    A list or dict default is copied for every instance."""
    meta = {"help": help, **metadata}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)
