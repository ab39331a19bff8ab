"""``kedit diff`` and ``kedit report`` on reports that cannot be used: each is exit 2 with a
message naming the file (and the place), never a traceback and never a green gate on nothing."""

from __future__ import annotations

import copy
import errno
import json

import pytest
from click.testing import CliRunner

from kedit.cli import main
from tests.report.reports import minimal_report, old_report


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path / "cache"))  # where an internal error's log would go


def _changed(change):
    def make(report: dict) -> dict:
        report = copy.deepcopy(report)
        change(report)
        return report
    return make


# (B made from the good report A, or raw text) -> (exit code, what the message says)
DIFF_CASES = {
    "no shared cell": (_changed(lambda r: [c.update(seed=9) for c in r["cells"]]), 2, "share no cell"),
    "no shared metric": (_changed(lambda r: [c.update(metrics={"efficacy": None}) for c in r["cells"]]), 2, "no metric with a value in both"),
    "other metric names": (_changed(lambda r: [c.update(metrics={"other": 1.0}) for c in r["cells"]]), 2, "no metric with a value in both"),
    "a report format this kedit cannot read": (_changed(lambda r: r.update(report_format=3)), 2, "B.json: report format 3; this kedit reads formats 1, 2"),
    "format 2 without per-edit scores": (_changed(lambda r: r["cells"][0].pop("per_edit")), 2, "B.json: /cells/0: 'per_edit' is a required property"),
    "an interval of three numbers": (_changed(lambda r: r["summary"][0]["interval"].update(efficacy=[0, 1, 2])), 2, "B.json: /summary/0/interval/efficacy"),
    "not JSON": ("{oops", 2, "B.json:1:2: not JSON"),
    "not UTF-8": (b"\xff\xfe\x00garbage", 2, "B.json: not UTF-8 text"),
    "a JSON list": ("[]", 2, "B.json: a report is a JSON object, this is a JSON list"),
    "no report_format": (_changed(lambda r: r.pop("report_format")), 2, "B.json: /: 'report_format' is a required property"),
    "a wrong type deep inside": (_changed(lambda r: r["cells"][1].update(batch_size="4")), 2, "B.json: /cells/1/batch_size: '4' is not of type 'integer'"),
    "a cell key this kedit does not know": (_changed(lambda r: r["cells"][0].update(extra=1)), 2, "B.json: /cells/0: CellRecord.__init__() got an unexpected keyword argument 'extra'"),
    "a regression": (_changed(lambda r: r["cells"][0]["metrics"].update(efficacy=0.1)), 1, "efficacy: 0.5000 [0.000, 1.000] n=2 -> 0.1000 [0.000, 1.000] n=2 (-0.4000, worse)"),
    "an old report": (old_report, 0, "efficacy: 0.5000 [0.000, 1.000] n=2 -> 0.5000 n=2 (+0.0000, same)"),
    "the same report": (_changed(lambda r: None), 0, "0 regression(s) beyond tolerance 0.0 over 2 value(s) in 2 shared cell(s)"),
}


@pytest.mark.parametrize("case", DIFF_CASES, ids=list(DIFF_CASES))
def test_diff_refuses_what_it_cannot_compare(tmp_path, case):
    make, code, message = DIFF_CASES[case]
    a, b = tmp_path / "A.json", tmp_path / "B.json"
    a.write_text(json.dumps(minimal_report()))
    content = make if isinstance(make, (str, bytes)) else json.dumps(make(minimal_report()))
    b.write_bytes(content if isinstance(content, bytes) else content.encode())
    res = CliRunner().invoke(main, ["diff", str(a), str(b), "--fail-on-regression"])
    assert res.exit_code == code, res.output
    assert message in res.output and "Traceback" not in res.output
    if code == 2:
        assert str(b) in res.output, "the file is named"


def test_diff_of_a_folder_without_report_json_names_the_file(tmp_path):
    (tmp_path / "A.json").write_text(json.dumps(minimal_report()))
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(main, ["diff", str(tmp_path / "A.json"), str(tmp_path / "empty")])
    assert res.exit_code == 2 and f"{tmp_path / 'empty' / 'report.json'}: no such file" in res.output


REPORT_CASES = {
    "not JSON": ("{oops", "report.json:1:2: not JSON"),
    "a JSON list": ("[]", "report.json: a report is a JSON object"),
    "no spec": (json.dumps({k: v for k, v in minimal_report().items() if k != "spec"}), "report.json: /: 'spec' is a required property"),
    "no file": (None, "report.json: no such file"),
}


@pytest.mark.parametrize("case", REPORT_CASES, ids=list(REPORT_CASES))
def test_report_names_a_report_json_it_cannot_use(tmp_path, case):
    text, message = REPORT_CASES[case]
    if text is not None:
        (tmp_path / "report.json").write_text(text)
    res = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert res.exit_code == 2 and message in res.output and str(tmp_path) in res.output and "Traceback" not in res.output


def test_report_rerenders_a_good_report_and_names_a_file_it_cannot_write(tmp_path, monkeypatch):
    import kedit.util

    (tmp_path / "report.json").write_text(json.dumps(minimal_report()))
    res = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "report.md").exists()

    def full(tmp, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(kedit.util, "_commit", full)
    res = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert res.exit_code == 2 and f"cannot write {tmp_path / 'report.md'}: No space left on device" in res.output


def test_diff_of_an_old_report_says_why_its_values_have_no_interval(tmp_path):
    (tmp_path / "old.json").write_text(json.dumps(old_report()))
    (tmp_path / "new.json").write_text(json.dumps(minimal_report()))
    res = CliRunner().invoke(main, ["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json")])
    assert res.exit_code == 0, res.output
    assert (f"note: A ({tmp_path / 'old.json'}) was made before kedit kept per-edit scores (report format 1 < 2): "
            "its values show n from the cells' batches and no interval") in res.output
    assert "efficacy: 0.2500 n=4 -> 0.2500 [0.000, 0.750] n=4 (+0.0000, same)" in res.output
