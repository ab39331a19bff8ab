"""On-disk cache of SPARQL results, one JSON file per (endpoint, query).

A file is ``{"key", "endpoint", "query", "rows", "sha256"}``; ``key`` is the sha256 of the
endpoint, a newline and the query text, and is also the file name; ``sha256`` is the checksum
of the other four fields' canonical JSON (:func:`kedit.util.sha256`). Files are written
atomically (:func:`kedit.util.write_atomic`), so a reader never sees half a file. A file that
is not valid JSON, holds another key or malformed rows, or whose content does not match its
checksum is reported with ``logging.warning``, deleted, and treated as a miss (the caller
re-fetches). A well-formed file from before checksums is used and upgraded with one: a
server's answer changes over time and may not be fetchable again (offline, rate limits), so
deleting it would lose what cannot be recomputed. A file that cannot be written is reported
and the rows used uncached.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from kedit.util import WriteError, sha256, write_atomic

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
        except (OSError, UnicodeDecodeError) as err:
            text = f"unreadable: {err}"
        entry, problem = _problem(text, key)
        if problem is not None:
            log.warning("corrupt SPARQL cache file %s: %s; deleting it and fetching again", path, problem)
            path.unlink(missing_ok=True)
            return None
        if "sha256" not in entry:
            log.info("SPARQL cache file %s predates checksums; keeping it and adding one", path)
            self.put(key, entry["endpoint"], entry["query"], entry["rows"])
        return entry["rows"]

    def put(self, key: str, endpoint: str, query: str, rows: Rows) -> Path:
        """Write ``rows`` for ``key`` atomically, with their checksum; return the file."""
        entry = {"key": key, "endpoint": endpoint, "query": query, "rows": rows}
        try:
            write_atomic(self.path(key), json.dumps(entry | {"sha256": sha256(entry)}, ensure_ascii=False))
        except WriteError as err:
            log.warning("cannot write the SPARQL cache file %s (%s); using the rows without caching them", self.path(key), err.strerror)
        return self.path(key)


def _problem(text: str, key: str) -> tuple[dict | None, str | None]:
    """(the entry, None) for a usable file's text, else (None, what is wrong with it)."""
    try:
        entry = json.loads(text)
    except json.JSONDecodeError as err:
        return None, f"invalid JSON ({err})"
    if not isinstance(entry, dict):
        return None, "not a JSON object"
    if entry.get("key") != key:
        return None, f"key {entry.get('key')!r} does not match the file's key {key}"
    if not _valid_rows(entry.get("rows")) or not all(isinstance(entry.get(k), str) for k in ("endpoint", "query")):
        return None, "rows are not a list of string-valued objects, or endpoint or query is missing"
    if "sha256" in entry and entry["sha256"] != sha256({k: v for k, v in entry.items() if k != "sha256"}):
        return None, "its content does not match its checksum (altered or damaged)"
    return entry, None
