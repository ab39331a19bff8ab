"""Finished cells on disk: ``<report dir>/cells/<key>.json``, one file per cell, written
atomically the moment the cell finishes, so an interrupted run resumes from them. A cell file
that cannot be read back (truncated, edited, another key) is named and its cell run again."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from kedit.experiment.cell import Cell, CellRecord
from kedit.experiment.errors import RunError
from kedit.util import write_atomic

log = logging.getLogger(__name__)


class CellStore:
    """The cells of one report directory."""

    def __init__(self, root: Path):
        self.root = root
        self.folder = root / "cells"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as e:
            raise RunError(f"report directory {root} is not writable: {e.strerror or e}") from None

    def path(self, cell: Cell) -> Path:
        return self.folder / f"{cell.key}.json"

    def read(self, cell: Cell) -> CellRecord | None:
        """The cell's record, or None where it has not finished (or its file is unusable: logged)."""
        path = self.path(cell)
        if not path.exists():
            return None
        try:
            record = CellRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
            if record.key != cell.key:
                raise ValueError(f"it holds cell {record.key}")
            return record
        except (OSError, ValueError, TypeError) as e:  # JSONDecodeError is a ValueError
            log.warning("cell file %s is unusable (%s); running that cell again", path, e)
            return None

    def write(self, record: CellRecord) -> None:
        write_atomic(self.folder / f"{record.key}.json", json.dumps(record.to_dict(), indent=1, default=float) + "\n")
