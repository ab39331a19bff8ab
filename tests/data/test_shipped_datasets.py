"""The datasets in datasets/ are what their specs give: rebuilt through a real loopback SPARQL
server (oxigraph serving the snapshot), every file is byte-identical to the committed one,
except the endpoint fields of provenance.json."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest
import yaml
from click.testing import CliRunner

from kedit.data.cli import data
from kedit.data.config import as_dict, parse_config
from kedit.data.store import FILES, load_rows

SHIPPED = Path(__file__).resolve().parents[2] / "datasets"
NAMES = ["same_subject", "distinct_subject"]
ENDPOINT_FIELDS = {"endpoint", "embedded", "snapshot", "snapshot_sha256"}


def _without_endpoint(provenance: dict) -> dict:
    return {k: v for k, v in provenance.items() if k not in ENDPOINT_FIELDS | {"queries"}}


@pytest.mark.parametrize("name", NAMES)
def test_rebuilt_through_a_loopback_server_is_byte_identical(name, oxigraph_server, tmp_path):
    out = tmp_path / name
    result = CliRunner().invoke(data, ["build", str(SHIPPED / f"{name}.spec.yaml"), "--out", str(out),
                                       "--endpoint", oxigraph_server])
    assert result.exit_code == 0, result.output
    for file in FILES:
        if file != "provenance.json":
            assert (out / file).read_bytes() == (SHIPPED / name / file).read_bytes(), f"{name}/{file} differs"
    rebuilt = json.loads((out / "provenance.json").read_text())
    committed = json.loads((SHIPPED / name / "provenance.json").read_text())
    assert rebuilt["endpoint"] == oxigraph_server and committed["embedded"] is True
    assert [q["source"] for q in rebuilt["queries"]] == ["endpoint"] * len(committed["queries"])
    assert _without_endpoint(rebuilt) == _without_endpoint(committed)
    assert [(q["sha256"], q["rows"]) for q in rebuilt["queries"]] == [(q["sha256"], q["rows"]) for q in committed["queries"]]


@pytest.mark.parametrize("name", NAMES)
def test_shipped_rows(name, tmp_path):
    rows = load_rows(SHIPPED / name)
    relations = [r["relation_id"] for r in rows]
    assert len(rows) == 100 and len(set(relations)) == 100  # the paper's 100 relations, one fact each
    subjects = {r["subject"] for r in rows}
    assert subjects == {"John Smith"} if name == "same_subject" else len(subjects) == 100
    loaded = datasets.load_dataset(str(SHIPPED / name), cache_dir=str(tmp_path / "hf"))
    assert loaded["train"].to_list() == rows


@pytest.mark.parametrize("name", NAMES)
def test_the_specs_presets_build_the_shipped_sets(name):
    """The data presets that `kedit run specs/*.yaml` builds from ask for the same dataset as the
    shipped set's spec, so the main job edits exactly the rows committed in datasets/."""
    preset = yaml.safe_load((SHIPPED.parent / "specs" / "presets" / f"{name}_data.yaml").read_text())
    shipped = yaml.safe_load((SHIPPED / f"{name}.spec.yaml").read_text())
    assert as_dict(parse_config(preset["datasets"][name]["wikidata"])) == as_dict(parse_config(shipped["dataset"]["wikidata"]))
