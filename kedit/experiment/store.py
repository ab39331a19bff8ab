"""Finished cells on disk: ``<report dir>/cells/<key>.json``, one file per cell, written
atomically the moment the cell finishes, so an interrupted run resumes from them. A cell file
that cannot be read back (truncated, edited, another key) is named and its cell run again.

One run at a time writes a report directory: ``with CellStore(root)`` takes the lock file
``<root>/.kedit-lock`` (JSON: the holder's pid, host and start time) and removes it when the
block ends. A second run is refused with the holder's name; a lock left by a process that no
longer exists on this host is taken over with a warning (one of another host cannot be
checked: the message says to delete it if that run is gone)."""

from __future__ import annotations

import datetime
import json
import logging
import os
import socket
from pathlib import Path

from kedit.experiment.cell import Cell, CellRecord
from kedit.experiment.errors import RunError
from kedit.util import write_atomic

log = logging.getLogger(__name__)

LOCK = ".kedit-lock"


class CellStore:
    """The cells of one report directory; a context manager that holds the directory's lock."""

    def __init__(self, root: Path):
        self.root = root
        self.folder = root / "cells"
        self.lock = root / LOCK
        self._holder: dict | None = None
        for path, what in ((root, "report directory"), (self.folder, "cells folder of the report")):
            if path.exists() and not path.is_dir():
                raise RunError(f"{path} is a file, not a folder; it is where the {what} goes: move it away or choose another --out")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as e:
            raise RunError(f"report directory {root} is not writable: {e.strerror or e}") from None

    def __enter__(self) -> "CellStore":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the directory's lock, or raise a :class:`RunError` naming who holds it."""
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        for _ in range(2):
            try:
                fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
            except FileExistsError:
                holder = _read_lock(self.lock)
                if not _stale(holder):
                    raise RunError(
                        f"report directory {self.root} is in use: {_who(holder)} holds its lock {self.lock}; wait for that run, "
                        "choose another --out, or delete the lock if that run is gone"
                    ) from None
                log.warning("taking over the lock %s of %s: that process no longer exists", self.lock, _who(holder))
                if _read_lock(self.lock) == holder:  # not taken over by another run meanwhile
                    self.lock.unlink(missing_ok=True)
                continue
            except OSError as e:
                raise RunError(f"report directory {self.root} is not writable: cannot create its lock {self.lock}: {e.strerror or e}") from None
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(me, f)
            self._holder = me
            return
        raise RunError(f"report directory {self.root}: another run took over the stale lock {self.lock} at the same time")

    def release(self) -> None:
        """Remove the lock if it is still this store's."""
        if self._holder is not None and _read_lock(self.lock) == self._holder:
            self.lock.unlink(missing_ok=True)
        self._holder = None

    def path(self, key: str) -> Path:
        """The file of the cell with this key."""
        return self.folder / f"{key}.json"

    def read(self, cell: Cell) -> CellRecord | None:
        """The cell's record, or None where it has not finished (or its file is unusable: logged)."""
        path = self.path(cell.key)
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
        write_atomic(self.path(record.key), json.dumps(record.to_dict(), indent=1, default=float) + "\n")

    def finished(self) -> int:
        """How many cell files the folder holds."""
        return sum(1 for _ in self.folder.glob("*.json"))

    def others(self, keys) -> list[Path]:
        """The cell files of the folder that are none of ``keys`` (an earlier spec's or kedit version's)."""
        wanted = set(keys)
        return sorted(p for p in self.folder.glob("*.json") if p.stem not in wanted)


def _read_lock(path: Path) -> dict | None:
    """The holder a lock file names, or None if it is gone or unreadable."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def _stale(holder: dict | None) -> bool:
    """Whether the lock's process is known to be gone: on this host, and no process has its pid."""
    if holder is None or holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _who(holder: dict | None) -> str:
    if holder is None:
        return "an unknown process (the lock file is unreadable)"
    return f"kedit pid {holder.get('pid')} on {holder.get('host')} (started {holder.get('started')})"
