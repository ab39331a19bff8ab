"""``fingerprint.json``: the sha256 of every file a dataset directory publishes.

``kedit data push`` uploads :data:`UPLOADED` (``data.jsonl``, the same rows as
``data.parquet``, stays local). ``fingerprint.json`` holds the sha256 of the rows' canonical
JSON (``rows_sha256``: what reports cite), of the resolved spec, and of each file of
:data:`PUBLISHED` by name, as the bytes written and uploaded; it cannot hold its own.
:func:`read_files` reads a directory's :data:`UPLOADED` files and :func:`check` recomputes
their sha256, so a directory edited after it was built is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from kedit.data.errors import DatasetFileError, DatasetPathError

#: The files whose sha256 fingerprint.json holds, by their name in the directory and the repository.
PUBLISHED = ("data.parquet", "README.md", "spec.yaml", "provenance.json")
NAME = "fingerprint.json"
#: Everything ``kedit data push`` uploads.
UPLOADED = (*PUBLISHED, NAME)


def digest(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def fingerprint(rows_sha256: str, n_rows: int, spec_sha256: str, files: Mapping[str, bytes]) -> dict:
    """The content of fingerprint.json; ``files`` maps each :data:`PUBLISHED` name to its bytes."""
    return {
        "rows_sha256": rows_sha256,
        "rows": n_rows,
        "spec_sha256": spec_sha256,
        "files": {name: digest(files[name]) for name in PUBLISHED},
    }


def read_files(directory: Path) -> dict[str, bytes]:
    """The bytes of each :data:`UPLOADED` file of ``directory``; a missing or unreadable one is
    a :class:`DatasetPathError` naming them all."""
    missing = [name for name in UPLOADED if not (directory / name).is_file()]
    if missing:
        raise DatasetPathError(f"{directory} is not a dataset directory written by `kedit data build`: "
                               f"missing {', '.join(missing)}")
    try:
        return {name: (directory / name).read_bytes() for name in UPLOADED}
    except OSError as err:
        raise DatasetPathError(f"{err.filename}: cannot read: {err.strerror}") from None


def check(directory: Path, files: Mapping[str, bytes]) -> dict:
    """The fingerprint of ``directory``, given the bytes of its :data:`UPLOADED` files, after
    checking that each published file still has the sha256 recorded when it was built. A
    fingerprint.json that is not JSON, lacks ``files`` (an older kedit wrote it) or names
    a file whose bytes differ is a :class:`DatasetFileError` naming the files."""
    path = directory / NAME
    try:
        recorded = json.loads(files[NAME])
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DatasetFileError(f"{path}: not JSON ({err})") from None
    if not isinstance(recorded, dict) or not isinstance(recorded.get("files"), dict) or not isinstance(recorded.get("rows"), int):
        raise DatasetFileError(f"{path}: no per-file sha256 ('files') or row count ('rows'): written by an older kedit; "
                               "rebuild the directory with `kedit data build`")
    changed = [f"{directory / name}: changed since it was built (sha256 {digest(files[name])}, "
               f"fingerprint.json records {recorded['files'].get(name)})"
               for name in PUBLISHED if recorded["files"].get(name) != digest(files[name])]
    if changed:
        raise DatasetFileError(changed, f"files changed since `kedit data build` wrote {directory}",
                               hint="rebuild the directory (kedit data build) so the card, the rows and the fingerprint agree")
    return recorded
