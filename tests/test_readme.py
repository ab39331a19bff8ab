"""The README's two set-up commands, and CI running the same test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    setup = ROOT.joinpath("README.md").read_text().split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", setup, re.S)


def test_the_readme_has_exactly_two_setup_commands_run_and_test():
    run, test = _commands()
    assert "\n" not in run and "\n" not in test
    assert run.endswith("kedit run specs/same_subject.yaml") and "pip install" in run
    assert "pytest" in test and "pip install" in test


def test_ci_runs_the_readmes_test_command():
    _, test = _commands()
    assert test in ROOT.joinpath(".ci", "run").read_text()


def test_the_main_job_spec_exists_and_ci_validates_the_specs():
    assert (ROOT / "specs" / "same_subject.yaml").is_file()
    assert "kedit validate specs" in ROOT.joinpath(".ci", "run").read_text()
