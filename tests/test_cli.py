"""The CLI's error boundary: known failures keep their exit codes, a bug becomes exit 3 with
its traceback in a log file, Ctrl-C exits 130."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kedit.cli import main


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path / "cache"))
    return CliRunner()


def _break_validation(monkeypatch, error: BaseException):
    import kedit.spec.load

    def broken(paths):
        raise error

    monkeypatch.setattr(kedit.spec.load, "check_paths", broken)


def test_a_bug_is_an_internal_error_with_its_traceback_in_a_log(runner, monkeypatch, tmp_path):
    _break_validation(monkeypatch, RuntimeError("boom"))
    res = runner.invoke(main, ["validate", str(tmp_path)])
    assert res.exit_code == 3
    assert "internal error: RuntimeError: boom" in res.output and "Traceback" not in res.output
    (log,) = (tmp_path / "cache" / "logs").glob("kedit-error-*.log")
    assert "Traceback" in log.read_text() and "boom" in log.read_text()


def test_ctrl_c_exits_130(runner, monkeypatch, tmp_path):
    _break_validation(monkeypatch, KeyboardInterrupt())
    res = runner.invoke(main, ["validate", str(tmp_path)])
    assert res.exit_code == 130 and "interrupted" in res.output


def test_known_failures_keep_their_exit_codes(runner, tmp_path):
    assert runner.invoke(main, ["validate", str(tmp_path / "missing.yaml")]).exit_code == 2
    assert runner.invoke(main, ["no-such-command"]).exit_code == 2  # click's usage error
    (tmp_path / "bad.yaml").write_text("methods: []\n")
    assert runner.invoke(main, ["validate", str(tmp_path / "bad.yaml")]).exit_code == 1
