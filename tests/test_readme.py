"""The README's two set-up commands, CI running the same test command, and the version the
README pins (pre-commit's rev, the install line, the schema URL) being kedit's own, tagged."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kedit import __version__

ROOT = Path(__file__).resolve().parents[1]
README = ROOT.joinpath("README.md").read_text()


def _commands() -> list[str]:
    setup = ROOT.joinpath("README.md").read_text().split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", setup, re.DOTALL)


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


def test_the_readme_pins_this_version_everywhere():
    """pre-commit's rev, the pip install line and the schema URL all name v<version>, which is
    pyproject's version too (the tag the coordinator creates for a release)."""
    project = ROOT.joinpath("pyproject.toml").read_text().split("[project]", 1)[1]  # (tomllib needs Python 3.11; kedit runs on 3.10)
    assert re.search(r'^version = "([^"]+)"$', project, re.MULTILINE)[1] == __version__
    assert re.findall(r"^ +rev: (\S+)$", README, re.MULTILINE) == [f"v{__version__}"]
    pinned = re.findall(r"github\.com/kedit/kedit@([^\s\"`]+)|raw\.githubusercontent\.com/kedit/kedit/([^/]+)/", README)
    assert len(pinned) >= 2 and {a or b for a, b in pinned} == {f"v{__version__}"}
    assert f"rev: v{__version__}" in ROOT.joinpath(".pre-commit-hooks.yaml").read_text()


def test_the_pinned_tag_exists_in_a_checkout_with_tags():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (or no git): no tags to look in")
    tags = subprocess.run(["git", "-C", str(ROOT), "tag", "-l"], capture_output=True, text=True, check=True).stdout.split()
    if not tags:
        pytest.skip("the checkout has no tags at all (a shallow clone, or before the first release is tagged)")
    assert f"v{__version__}" in tags, f"README pins v{__version__}, which is not among the tags {tags}"
