"""``kedit report DIR --format latex|csv|md [--out FILE]``: to stdout or a file; without
--format the report's own files are re-rendered; bad input is exit 2 with a named error."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kedit.cli import main
from tests.report.reports import old_report, table_report


@pytest.fixture
def report_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path / "cache"))
    where = tmp_path / "report"
    where.mkdir()
    (where / "report.json").write_text(json.dumps(table_report()))
    return where


@pytest.mark.parametrize(("fmt", "begins"), [("latex", "% kedit report tiny: Table 1"), ("csv", "dataset,method,batch_size,metric,n,"), ("md", "# kedit report: tiny")])
def test_each_format_goes_to_stdout_or_to_a_file(report_dir, tmp_path, fmt, begins):
    res = CliRunner().invoke(main, ["report", str(report_dir), "--format", fmt])
    assert res.exit_code == 0 and res.stdout.startswith(begins), res.output
    out = tmp_path / "sub" / f"table.{fmt}"
    res = CliRunner().invoke(main, ["report", str(report_dir), "--format", fmt, "--out", str(out)])
    assert res.exit_code == 0 and out.read_text() == CliRunner().invoke(main, ["report", str(report_dir), "--format", fmt]).stdout
    assert not (report_dir / "report.md").exists(), "an export writes only what it is asked for"


def test_without_format_report_md_is_rerendered_and_report_json_left_as_it_is(report_dir):
    before = (report_dir / "report.json").read_bytes()
    res = CliRunner().invoke(main, ["report", str(report_dir)])
    assert res.exit_code == 0 and (report_dir / "report.md").read_text().startswith("# kedit report: tiny")
    assert (report_dir / "report.json").read_bytes() == before


def test_an_old_report_exports_too(report_dir):
    (report_dir / "report.json").write_text(json.dumps(old_report(table_report())))
    res = CliRunner().invoke(main, ["report", str(report_dir), "--format", "latex"])
    assert res.exit_code == 0 and "No interval: report made with kedit 0 (report format 1)" in res.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["{missing}", "--format", "csv"], "does not exist"),
    (["{dir}", "--format", "html"], "'html' is not one of 'md', 'latex', 'csv'"),
    (["{dir}", "--out", "{dir}/x.tex"], "--out needs --format (md, latex or csv)"),
    (["{dir}", "--format", "csv", "--out", "{dir}"], "is a directory"),
    (["{empty}", "--format", "csv"], "report.json: no such file (a report directory holds report.json)"),
    (["{broken}", "--format", "latex"], "report.json: /cells/0/per_edit: 'x' is not of type 'object'"),
], ids=["no such folder", "unknown format", "out without format", "out is a folder", "no report.json", "a broken report"])
def test_bad_input_is_exit_2_with_the_place_named(report_dir, tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    broken = table_report()
    broken["cells"][0]["per_edit"] = "x"
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "report.json").write_text(json.dumps(broken))
    names = {"missing": tmp_path / "missing", "dir": report_dir, "empty": tmp_path / "empty", "broken": tmp_path / "broken"}
    res = CliRunner().invoke(main, ["report", *(a.format(**names) for a in args)])
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output, res.output
