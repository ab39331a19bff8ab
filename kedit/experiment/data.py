"""The datasets of a spec, materialised: rows built (Wikidata; read from a directory ``kedit
data build`` wrote when one holds the same build, :mod:`kedit.data.reuse`) or read (a local
file), turned into edit requests, checked for contradictory and duplicate edits, fingerprinted."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kedit.data import conflicts
from kedit.data.errors import DataError
from kedit.editing.requests import EditRequest, RequestError, make_requests
from kedit.experiment.errors import RunError
from kedit.util import sha256

log = logging.getLogger(__name__)


@dataclass
class Dataset:
    """One dataset of the spec, ready to edit: ``requests[i]`` is made from ``rows[i]``."""

    name: str
    rows: list[dict]
    requests: list[EditRequest]
    fingerprint: str  # sha256 of the rows' canonical JSON
    provenance: dict


def _row(i: int) -> str:
    return f"row {i}"


def _rows(cfg: dict, spec_dir: Path) -> tuple[list[dict], dict, list[int], Callable[[int], str]]:
    """(rows, provenance, origin, where): ``origin[i]`` is row ``i``'s index in the file (a
    format may skip rows) and ``where(origin[i])`` names it in messages (a file's line)."""
    if "file" in cfg:
        from kedit.data.formats import convert_rows
        from kedit.data.store import read_rows  # imports `datasets` (~1 s): only where a file is read

        source = read_rows(spec_dir / cfg["file"])  # messages name the path as the command line and spec give it
        rows, fmt, skipped = convert_rows(source.rows, cfg.get("format", "auto"), source.where)
        origin = sorted(set(range(len(source.rows))) - set(skipped))
        provenance = {"source": "file", "path": str((spec_dir / cfg["file"]).resolve()), "format": fmt, "rows_skipped": len(skipped)}
        return rows, provenance, origin, source.where
    from kedit.data.reuse import build_or_reuse

    built = build_or_reuse(cfg["wikidata"])
    return built.rows, dict(built.provenance), list(range(len(built.rows))), _row


def materialise(name: str, cfg: dict, spec_dir: Path) -> Dataset:
    """Build or read a dataset, make its requests and apply its ``conflicts`` policy
    (:mod:`kedit.data.conflicts`; what it found goes to the provenance and, as a warning, to
    the console). Errors name the dataset, and each bad row by its file and line (or index)."""
    try:
        rows, provenance, origin, where = _rows(cfg, spec_dir)
        rows = rows[: cfg["limit"]] if cfg.get("limit") else rows
        if not rows:
            raise RunError(f"dataset {name!r} has no rows")
        def at(i: int) -> str:
            return where(origin[i])

        requests = make_requests(rows, at)
        found = conflicts.resolve(requests, cfg.get("conflicts", conflicts.DEFAULT), at, origin.__getitem__)
    except (DataError, RequestError) as e:
        raise RunError(f"dataset {name!r}: {e}") from None
    if found.lines:
        log.warning("dataset %r: %s", name, "\n  ".join(found.lines))
    rows, requests = [rows[i] for i in found.kept], [requests[i] for i in found.kept]
    if not rows:
        raise RunError(f"dataset {name!r}: no rows left after conflicts: {found.provenance['policy']}")
    provenance["conflicts"] = found.provenance
    return Dataset(name=name, rows=rows, requests=requests, fingerprint=sha256(rows), provenance=provenance)
