"""The CLI's error boundary: known failures keep their exit codes, a bug becomes exit 3 with
its traceback in a log file, Ctrl-C exits 130. Every command's help carries an example, and
the examples (and the shipped GitHub workflow) use only commands and options that exist."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from kedit import __version__
from kedit.cli import main

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "examples" / "github" / "kedit-validate.yml"
SHELL_OPERATORS = {">", ">>", "|", "&&", "||", ";"}


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


def _commands(cmd: click.Command = main, path: tuple[str, ...] = ("kedit",)):
    """(command path, command) for the group and every command below it."""
    yield path, cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _commands(sub, path + (name,))


def _parse(line: str) -> tuple[str, ...]:
    """Parse a ``kedit ...`` command line as click would, without running it or converting
    values (paths need not exist); the command path. Raises click.UsageError for an unknown
    command or option, an option without its value, a missing required option or an extra
    argument. A shell operator (``>``, ``|``, ``&&``) ends the command."""
    words = shlex.split(line)
    words = words[: next((i for i, w in enumerate(words) if w in SHELL_OPERATORS), len(words))]
    assert words[0] == "kedit", line
    cmd, path, words = main, ("kedit",), words[1:]
    while isinstance(cmd, click.Group):
        if not words or words[0] not in cmd.commands:
            raise click.UsageError(f"{' '.join(path)} has no command {words[:1]}")
        path, cmd, words = path + (words[0],), cmd.commands[words[0]], words[1:]
    values, extra, _ = cmd.make_parser(click.Context(cmd, info_name=path[-1])).parse_args(words)
    missing = [p.name for p in cmd.params if p.required and p.name not in values]
    if extra or missing:
        raise click.UsageError(f"{line}: extra arguments {extra}, missing {missing}")
    return path


@pytest.mark.parametrize("line", ["kedit diff --fail-on-regresion a b", "kedit diff a b c", "kedit diff --tolerance", "kedit stats push m",
                                  "kedit stats", "kedit lint specs/"])
def test_the_command_line_check_finds_what_click_would_refuse(line):
    with pytest.raises(click.UsageError):
        _parse(line)


def _examples(cmd: click.Command, path: tuple[str, ...]) -> list[str]:
    """The command lines under "Example:" in the command's --help, as click prints it."""
    text = cmd.get_help(click.Context(cmd, info_name=" ".join(path)))
    after = text.split("Example:\n", 1)[1] if "Example:\n" in text else ""
    return [line.strip() for line in after.splitlines() if line.strip().startswith("kedit ")]


@pytest.mark.parametrize(("path", "cmd"), list(_commands()), ids=lambda x: " ".join(x) if isinstance(x, tuple) else "")
def test_every_command_has_a_real_example_in_its_help(path, cmd):
    examples = _examples(cmd, path)
    assert examples, f"`{' '.join(path)} --help` has no example"
    for line in examples:
        assert _parse(line)[: len(path)] == path, f"the example of {' '.join(path)} runs another command: {line}"


def _workflow_runs() -> dict[str, list[str]]:
    """The shell commands of each job of the shipped workflow, one per line."""
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    return {name: [line for step in job["steps"] for line in step.get("run", "").splitlines() if line.strip()] for name, job in jobs.items()}


def test_the_shipped_workflow_validates_specs_and_shows_the_regression_gate():
    runs = _workflow_runs()
    assert set(runs) == {"validate", "regression"}
    kedit = {name: [line for line in lines if line.startswith("kedit ")] for name, lines in runs.items()}
    assert kedit == {"validate": ["kedit validate --format github specs/"],
                     "regression": ["kedit diff --fail-on-regression --tolerance 0.02 baseline/ new/"]}
    for line in kedit["validate"] + kedit["regression"]:
        _parse(line)
    for lines in runs.values():  # the light install, at the tag the README's pre-commit hook uses
        assert f'pip install "kedit @ git+https://github.com/kedit/kedit@v{__version__}"' in lines
