"""`kedit data build` and `kedit data push` through click, against the loopback server."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from kedit.data.cli import data, default_out


def spec_file(tmp_path, content, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


SPEC = {"model": {"name": "ignored here"}, "dataset": {"wikidata": {"endpoint": "offline", "relations": {"sample": 3}}}}


def test_build_through_a_loopback_server_then_dry_run_push(tmp_path, oxigraph_server):
    spec = spec_file(tmp_path, SPEC, "tiny.spec.yaml")
    result = CliRunner().invoke(data, ["build", str(spec), "--endpoint", oxigraph_server])
    assert result.exit_code == 0, result.output
    out = tmp_path / "tiny"
    assert "wrote 3 rows (3 relations)" in result.output and oxigraph_server in result.output
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["endpoint"] == oxigraph_server and provenance["embedded"] is False
    assert {q["source"] for q in provenance["queries"]} == {"endpoint"}
    pushed = CliRunner().invoke(data, ["push", str(out), "--repo-id", "org/tiny", "--dry-run"])
    assert pushed.exit_code == 0 and "one commit, 5 files, 3 rows in split train" in pushed.output


def test_build_defaults_to_the_spec_endpoint_and_out(tmp_path):
    spec = spec_file(tmp_path, SPEC)
    result = CliRunner().invoke(data, ["build", str(spec), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "embedded snapshot" in result.output and (tmp_path / "o" / "data.parquet").exists()
    assert default_out(tmp_path / "x.spec.yaml") == tmp_path / "x"


@pytest.mark.parametrize("content,message", [
    ({"model": {}}, "key dataset.wikidata is missing"),
    ({"dataset": {"wikidata": ["P19"]}}, "key dataset.wikidata must be a mapping"),
    ({"dataset": {"wikidata": {"relations": {"ids": ["Q5"]}}}}, "dataset.wikidata.relations.ids[0]: 'Q5' is not a Wikidata property id"),
    ({"dataset": {"wikidata": {"endpoint": "offline", "templates": {"edit": "{relation} is"}}}}, "has no {subject} placeholder"),
    ("dataset: [unclosed", "not valid YAML/JSON"),
    ({"dataset": {"wikidata": {"endpoint": "offline", "subjects": {"policy": "grouped"}}}},
     "dataset.wikidata.subjects: policy 'grouped' needs subjects.groups and subjects.facts"),
    ({"dataset": {"wikidata": {"endpoint": "offline", "subjects": {"policy": "grouped", "groups": 0, "facts": 3}}}},
     "dataset.wikidata.subjects.groups: 0 is less than the minimum of 1"),
    ({"dataset": {"wikidata": {"endpoint": "offline", "subjects": {"policy": "mixed", "groups": 1, "facts": -1, "singles": 2}}}},
     "dataset.wikidata.subjects.facts: -1 is less than the minimum of 1"),
    ({"dataset": {"wikidata": {"endpoint": "offline", "relations": {"sample": 3}, "per_relation": 2,
                               "subjects": {"policy": "grouped", "groups": 1, "facts": 6}}}},
     "dataset.wikidata.subjects.facts: 6 facts per subject need 6 distinct relations but the set has 3"),
    ({"dataset": {"wikidata": {"endpoint": "offline", "relations": {"sample": None}, "per_relation": 2,
                               "subjects": {"policy": "grouped", "groups": 1, "facts": 176}}}},
     "subjects.facts: 176 facts per subject need 176 distinct relations but the set has 88"),
])
def test_build_errors_exit_2_naming_file_and_key(tmp_path, content, message):
    spec = spec_file(tmp_path, content)
    result = CliRunner().invoke(data, ["build", str(spec)])
    assert result.exit_code == 2 and str(spec) in result.output and message in result.output


def test_build_unreachable_endpoint_exits_2(tmp_path, closed_url):
    spec = spec_file(tmp_path, SPEC)
    result = CliRunner().invoke(data, ["build", str(spec), "--endpoint", closed_url])
    assert result.exit_code == 2 and closed_url in result.output and "unreachable" in result.output


def test_build_into_an_unwritable_directory_exits_2_before_building(tmp_path):
    """A file where the output directory's parent should be: named, exit 2, nothing built."""
    spec = spec_file(tmp_path, SPEC)
    (tmp_path / "a-file").write_text("")
    result = CliRunner().invoke(data, ["build", str(spec), "--out", str(tmp_path / "a-file" / "ds")])
    assert result.exit_code == 2 and f"cannot write a dataset to {tmp_path / 'a-file' / 'ds'}: Not a directory" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_push_bad_repo_id_exits_2(tmp_path):
    result = CliRunner().invoke(data, ["push", str(tmp_path), "--repo-id", "just-a-name"])
    assert result.exit_code == 2 and "'just-a-name' is not of the form ORG/NAME" in result.output
