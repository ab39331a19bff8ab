"""kedit.util's atomic writes: the mode a normal file gets, and failures that name the file meant."""

from __future__ import annotations

import errno
import os

import pytest

from kedit.util import WriteError, atomic_path, write_atomic


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_a_written_file_gets_the_mode_the_umask_gives(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        write_atomic(tmp_path / "report.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "report.json").stat().st_mode & 0o777 == mode


def test_a_failed_write_names_the_file_meant_and_leaves_nothing(tmp_path):
    with pytest.raises(WriteError) as err:
        with atomic_path(tmp_path / "report.json"):
            raise OSError(errno.ENOSPC, "No space left on device")  # as a write() on a full disk raises it
    assert err.value.filename == str(tmp_path / "report.json") and err.value.errno == errno.ENOSPC
    assert str(err.value) == f"[Errno 28] No space left on device: '{tmp_path / 'report.json'}'"
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "cells").write_text("")
    with pytest.raises(WriteError, match="cells/x.json"):
        write_atomic(tmp_path / "cells" / "x.json", "{}")  # a file where the folder should be


def test_an_error_about_another_file_passes_unchanged(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        with atomic_path(tmp_path / "copy") as tmp:
            open(tmp_path / "missing-source").read()
    assert not isinstance(err.value, WriteError) and err.value.filename == str(tmp_path / "missing-source")
