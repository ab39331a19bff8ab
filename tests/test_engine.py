"""kedit.engine: what checks specs and compares reports imports none of the engine, and a
command that needs it, run without it, ends with a named error (exit 2), not a traceback.

Each command runs in a fresh interpreter (``sys.modules`` shared with pytest would hide an import).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kedit.engine import MODULES

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "benchmarks" / "results" / "table1_smollm2-135m"

# Runs ``kedit ARGS`` with the modules named in argv[1] made unimportable (as if not installed:
# ``import`` of a name set to None in sys.modules raises ImportError) and writes the engine
# modules that were imported to argv[2] at exit.
DRIVER = f"""
import atexit, json, sys
blocked, out, args = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3:]
for name in blocked:
    sys.modules[name] = None
engine = {MODULES!r}
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(m for m in engine if sys.modules.get(m) is not None))))
from kedit.cli import main
main(args, prog_name="kedit")
"""


def _kedit(tmp_path: Path, args: list[str], blocked: tuple[str, ...] = ()) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run ``kedit ARGS`` in a fresh interpreter; (the process, the engine modules it imported)."""
    out = tmp_path / "imported.json"
    env = os.environ | {"PYTHONPATH": str(ROOT), "KEDIT_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(blocked), str(out), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    return proc, json.loads(out.read_text())


def _md_only_report(tmp_path: Path) -> Path:
    """A copy of a committed report whose spec asks for report.json and report.md only."""
    where = tmp_path / "report"
    where.mkdir()
    data = json.loads((REPORT / "report.json").read_text())
    data["spec"].setdefault("report", {})["formats"] = ["json", "md"]
    (where / "report.json").write_text(json.dumps(data))
    return where


@pytest.mark.parametrize("args", [
    ["validate", "specs"],
    ["validate", "--format", "json", "specs/same_subject.yaml"],
    ["schema"],
    ["diff", str(REPORT), str(REPORT)],
    ["--help"],
    ["--version"],
    ["ls", "methods"],
    ["ls", "metrics"],
    ["ls", "architectures"],
    ["ls", "models"],
    ["report", str(REPORT), "--format", "latex"],
    ["report", str(REPORT), "--format", "csv"],
], ids=["validate", "validate-json", "schema", "diff", "help", "version", "ls-methods", "ls-metrics", "ls-architectures", "ls-models", "report-latex", "report-csv"])
def test_checking_specs_and_comparing_reports_imports_no_engine(tmp_path, args):
    proc, imported = _kedit(tmp_path, args)
    assert proc.returncode == 0, proc.stderr
    assert imported == []


def test_validate_finds_an_invalid_spec_without_the_engine_installed(tmp_path):
    """The same problems, file and line as with the engine: method configs are parsed by their dataclasses."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset: {file: rows.jsonl}\nmethods:\n  - name: MEMIT\n    hparams: {layers: [5, 4]}\n")
    (tmp_path / "rows.jsonl").write_text("")
    proc, imported = _kedit(tmp_path, ["validate", str(bad)], blocked=MODULES)
    assert proc.returncode == 1 and imported == []
    assert f"{bad}:4: /methods/0/hparams: layers must be a non-empty ascending list" in proc.stderr


def test_report_renders_markdown_without_the_engine(tmp_path):
    where = _md_only_report(tmp_path)
    proc, imported = _kedit(tmp_path, ["report", str(where)], blocked=MODULES)
    assert proc.returncode == 0, proc.stderr
    assert imported == [] and "| MEMIT" in (where / "report.md").read_text()


def test_report_plots_without_matplotlib_are_a_named_error_and_nothing_is_written(tmp_path):
    where = tmp_path / "report"
    shutil.copytree(REPORT, where)

    def files():
        return {p: p.read_bytes() for p in where.rglob("*") if p.is_file()}

    before = files()
    proc, _ = _kedit(tmp_path, ["report", str(where)], blocked=("matplotlib",))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "kedit report needs matplotlib to draw the report's plots: pip install 'kedit[engine]' (not installed: matplotlib)" in proc.stderr
    assert files() == before


ENGINE_COMMANDS = {
    "kedit run": ["run", "specs/same_subject.yaml"],
    "kedit stats compute": ["stats", "compute", "smollm2-135m", "--layers", "1"],
    "kedit stats pull": ["stats", "pull", "org/stats", "--model", "smollm2-135m"],
    "kedit stats push": ["stats", "push", "smollm2-135m", "--repo-id", "org/stats", "--dry-run"],
    "kedit data build": ["data", "build", "specs/same_subject.yaml", "--out", "{tmp}/built"],
    "kedit data push": ["data", "push", "{tmp}", "--repo-id", "org/data", "--dry-run"],
}


@pytest.mark.parametrize("name", ENGINE_COMMANDS)
def test_a_command_that_needs_the_engine_says_so_without_it(tmp_path, name):
    args = [a.format(tmp=tmp_path) for a in ENGINE_COMMANDS[name]]
    proc, imported = _kedit(tmp_path, args, blocked=("torch", "datasets"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"Error: {name} needs the engine: pip install 'kedit[engine]' (not installed: torch, datasets)"
    assert imported == [] and not (tmp_path / "built").exists()


def test_the_engine_modules_are_the_engine_extra_and_the_core_holds_none():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    engine = [re.split(r"[<>=!~\[; ]", r)[0] for r in project["optional-dependencies"]["engine"]]
    assert engine == list(MODULES)  # each of these packages imports under its own name
    assert {re.split(r"[<>=!~\[; ]", r)[0] for r in project["dependencies"]} == {"jsonschema", "click", "pyyaml"}
