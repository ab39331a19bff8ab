"""On-disk cache of SPARQL results, one JSON file per (endpoint, query).

A file is ``{"key", "endpoint", "query", "rows"}``; ``key`` is the sha256 of the endpoint,
a newline and the query text, and is also the file name. Files are written atomically
(:func:`kedit.util.write_atomic`), so a reader never sees half a file. A file that is not valid JSON, holds another key or malformed rows is reported
with ``logging.warning``, deleted, and treated as a miss (the caller re-fetches).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from kedit.util import write_atomic

log = logging.getLogger(__name__)

Rows = list[dict[str, str]]


def cache_key(endpoint: str, query: str) -> str:
    """sha256 hex digest of ``endpoint + "\\n" + query``."""
    return hashlib.sha256(f"{endpoint}\n{query}".encode()).hexdigest()


def _valid_rows(rows: object) -> bool:
    return isinstance(rows, list) and all(
        isinstance(r, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in r.items()) for r in rows
    )


class QueryCache:
    """Result files under ``directory`` (created on first write)."""

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, key: str) -> Rows | None:
        """The cached rows for ``key``, or ``None`` if absent or corrupt (a corrupt file is deleted)."""
        path = self.path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            entry = json.loads(text)
            problem = None if isinstance(entry, dict) else "not a JSON object"
        except json.JSONDecodeError as err:
            entry, problem = None, f"invalid JSON ({err})"
        if problem is None and entry.get("key") != key:
            problem = f"key {entry.get('key')!r} does not match the file's key {key}"
        if problem is None and not _valid_rows(entry.get("rows")):
            problem = "rows are not a list of string-valued objects"
        if problem is not None:
            log.warning("corrupt SPARQL cache file %s: %s; deleting it and fetching again", path, problem)
            path.unlink(missing_ok=True)
            return None
        return entry["rows"]

    def put(self, key: str, endpoint: str, query: str, rows: Rows) -> Path:
        """Write ``rows`` for ``key`` atomically; return the file."""
        entry = {"key": key, "endpoint": endpoint, "query": query, "rows": rows}
        write_atomic(self.path(key), json.dumps(entry, ensure_ascii=False))
        return self.path(key)
