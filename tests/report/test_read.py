"""``kedit diff`` and ``kedit report`` on reports that cannot be used: each is exit 2 with a
message naming the file (and the place), never a traceback and never a green gate on nothing."""

from __future__ import annotations

import copy
import errno
import json

import jsonschema
import pytest
from click.testing import CliRunner

from kedit.cli import main
from kedit.spec.schema import REPORT_SCHEMA_FILE, load_schema

H = "0" * 64


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path / "cache"))  # where an internal error's log would go


def _cell(seed: int, batch_size: int, efficacy: float | None) -> dict:
    return {"key": f"{seed:012d}{batch_size:012d}", "dataset": "dataset", "method": "MEMIT", "label": "MEMIT", "hparams": {},
            "batch_size": batch_size, "batch_spec": batch_size, "batch_index": 0, "seed": seed, "rows": list(range(batch_size)),
            "metrics": {"efficacy": efficacy}, "timings": {"edit_s": 1.0, "wall_s": 1.5}, "info": {}}


def minimal_report() -> dict:
    """The smallest report the schema accepts: one method, batch sizes 2 and 4, one seed."""
    report = {
        "report_format": 1, "schema_version": "1", "created": "2026-12-02T00:00:00+00:00",
        "kedit": {"version": "0", "git_commit": None},
        "spec": {"name": "tiny", "datasets": {}, "methods": [], "batch_sizes": [2, 4], "seeds": [0], "metrics": ["efficacy"],
                 "report": {"formats": ["json", "md"]}},
        "spec_sha256": H, "datasets": {"dataset": {"rows": 4, "fingerprint": H, "provenance": {}}},
        "model": {"name": "tiny", "source": "x", "model_type": "llama", "n_layers": 4, "fingerprint": H, "dtype": "float32", "device": "cpu"},
        "statistics": {"corpus": "c", "corpus_fingerprint": H, "n_samples": 1, "max_length": 1},
        "environment": {"python": "3", "platform": "p", "cpu_count": 1, "libraries": {"torch": "2", "transformers": "5", "datasets": "4"}},
        "seeds": [0], "metrics": {"efficacy": {"higher_is_better": True, "description": "d"}},
        "timings": {"total_s": 1.0, "data_s": 0.0, "load_s": 0.0, "statistics_s": 0.0, "resumed_cells": 0},
        "cells": [_cell(0, 2, 0.5), _cell(0, 4, 0.25)],
        "summary": [{"dataset": "dataset", "label": "MEMIT", "batch_size": b, "cells": 1, "metrics": {"efficacy": e}, "edit_s_mean": 1.0}
                    for b, e in ((2, 0.5), (4, 0.25))],
    }
    jsonschema.validate(report, load_schema(REPORT_SCHEMA_FILE))
    return report


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
    "another report format": (_changed(lambda r: r.update(report_format=2)), 2, "different report formats"),
    "not JSON": ("{oops", 2, "B.json:1:2: not JSON"),
    "not UTF-8": (b"\xff\xfe\x00garbage", 2, "B.json: not UTF-8 text"),
    "a JSON list": ("[]", 2, "B.json: a report is a JSON object, this is a JSON list"),
    "no report_format": (_changed(lambda r: r.pop("report_format")), 2, "B.json: /: 'report_format' is a required property"),
    "a wrong type deep inside": (_changed(lambda r: r["cells"][1].update(batch_size="4")), 2, "B.json: /cells/1/batch_size: '4' is not of type 'integer'"),
    "a cell key this kedit does not know": (_changed(lambda r: r["cells"][0].update(extra=1)), 2, "B.json: /cells/0: CellRecord.__init__() got an unexpected keyword argument 'extra'"),
    "a regression": (_changed(lambda r: r["cells"][0]["metrics"].update(efficacy=0.1)), 1, "efficacy: 0.5000 -> 0.1000 (-0.4000, worse)"),
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
    assert res.exit_code == 2 and f"cannot write {tmp_path / 'report.json'}: No space left on device" in res.output
