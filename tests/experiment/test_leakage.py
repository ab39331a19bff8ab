"""Settings never see the prompts they are scored on (kedit.experiment.leakage)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kedit.editing.requests import make_requests
from kedit.experiment.errors import RunError
from kedit.experiment.leakage import check_no_leaks, find_leaks
from kedit.methods import MethodRun
from tests.tiny import ROWS

ROOT = Path(__file__).resolve().parents[2]


def _requests(**changes) -> list:
    rows = [dict(r) for r in ROWS]
    for i, change in changes.items():
        rows[int(i[1:])].update(change)
    return make_requests(rows)


@pytest.mark.parametrize("name", ["same_subject", "distinct_subject", "grouped_subject"])
def test_the_shipped_datasets_score_no_prompt_their_edits_are_fitted_to(name):
    rows = [json.loads(line) for line in (ROOT / "datasets" / name / "data.jsonl").read_text().splitlines()]
    kl = [t for m in ("MEMIT", "MEMIT-Merge", "AlphaEdit", "PMET", "FT-L") for t in MethodRun.of(m).config.fitted_templates()]
    assert find_leaks(make_requests(rows), kl) == []


def test_a_paraphrase_equal_to_its_edit_prompt_is_a_leak():
    leaks = find_leaks(_requests(r1={"paraphrase_prompts": ["John  Smith's employer is"]}))
    assert [(leak.scored_as, leak.scored_in, leak.fitted_by) for leak in leaks] == [("paraphrase", 1, 1)]


def test_a_neighbour_that_another_edit_is_fitted_to_is_a_leak():
    leaks = find_leaks(_requests(r0={"neighborhood_prompts": [{"prompt": "John Smith's occupation is", "target": "actor"}]}))
    assert [(leak.scored_as, leak.scored_in, leak.fitted_by) for leak in leaks] == [("neighbourhood", 0, 3)]


def test_the_kl_prompt_counts_as_fitted():
    requests = _requests(r2={"paraphrase_prompts": ["John Smith is a"]})
    assert find_leaks(requests) == []
    assert [leak.prompt for leak in find_leaks(requests, ["{} is a"])] == ["John Smith is a"]


def test_check_no_leaks_names_the_rows():
    requests = _requests(r1={"paraphrase_prompts": ["John Smith's employer is"]})
    with pytest.raises(RunError, match=r"dataset 'd' row 7: paraphrase prompt \"John Smith's employer is\" is also a prompt the edit of dataset 'd' row 7 is fitted to"):
        check_no_leaks([(requests, [], lambda i: f"dataset 'd' row {[4, 7, 9, 11][i]}")])


def test_a_run_that_would_score_a_fitted_prompt_is_refused_before_any_work(project):
    from click.testing import CliRunner

    from kedit.cli import main

    rows = [dict(r) for r in ROWS]
    rows[2]["paraphrase_prompts"] = ["John Smith's mother tongue is"]
    (project.parent / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = yaml.safe_load(project.read_text())
    spec["batch_sizes"] = [4]
    project.write_text(yaml.safe_dump(spec))
    res = CliRunner().invoke(main, ["run", str(project)])
    assert res.exit_code == 2, res.output
    assert "dataset 'dataset' row 2: paraphrase prompt \"John Smith's mother tongue is\"" in res.output
    assert not list((project.parent / "reports").glob("*/cells/*"))
