"""The datasets in datasets/ are what their specs give: rebuilt through a real loopback SPARQL
server (oxigraph serving the snapshot), every file is byte-identical to the committed one,
except the endpoint fields of provenance.json (and so its sha256 in fingerprint.json)."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest
import yaml
from click.testing import CliRunner

from kedit.data import fingerprint
from kedit.data.cli import data
from kedit.data.config import as_dict, parse_config
from kedit.data.store import FILES, load_rows
from kedit.data.subjects import load_names

SHIPPED = Path(__file__).resolve().parents[2] / "datasets"
NAMES = ["same_subject", "distinct_subject", "grouped_subject"]
#: Subjects of each shipped set x facts per subject (each of another relation).
SHAPES = {"same_subject": (1, 100), "distinct_subject": (100, 1), "grouped_subject": (10, 10)}
NEIGHBOURS = ("neighborhood_prompts",)
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
        if file not in ("provenance.json", "fingerprint.json"):
            assert (out / file).read_bytes() == (SHIPPED / name / file).read_bytes(), f"{name}/{file} differs"
    fingerprints = [json.loads((d / "fingerprint.json").read_text()) for d in (out, SHIPPED / name)]
    assert [f["files"].pop("provenance.json") for f in fingerprints] == [
        fingerprint.digest((d / "provenance.json").read_bytes()) for d in (out, SHIPPED / name)]
    assert fingerprints[0] == fingerprints[1]
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
    profiles: dict[str, set[str]] = {}
    for row in rows:
        profiles.setdefault(row["subject"], set()).add(row["relation_id"])
    groups, facts = SHAPES[name]
    assert len(profiles) == groups and {len(p) for p in profiles.values()} == {facts}
    assert set(profiles) == {"John Smith"} if name == "same_subject" else set(profiles) <= set(load_names("builtin"))
    loaded = datasets.load_dataset(str(SHIPPED / name), cache_dir=str(tmp_path / "hf"))
    assert loaded["train"].to_list() == rows


@pytest.mark.parametrize("name", NAMES)
def test_subjects_named_only_by_a_label(name):
    """23 rows' subjects came as labels only (kl:); one (Adolf Hitler) links, on a statement in
    common; John Hughes, the only one with that label in the snapshot, is another man and stays
    kl:. The card says so and no longer claims these people have no Q-id."""
    rows = load_rows(SHIPPED / name)
    provenance = json.loads((SHIPPED / name / "provenance.json").read_text())
    assert provenance["counts"]["local_subjects"] == {
        "local_subject": 23, "linked": 1, "no_item_with_label": 5, "several_items_with_label": 0, "no_shared_statement": 17}
    links = {s["label"]: s for s in provenance["subject_links"]["subjects"]}
    assert (links["Adolf Hitler"]["wikidata_id"], links["John Hughes"]["wikidata_id"]) == ("Q352", None)
    assert all(s["wikidata_id"] in s["candidates"] for s in links.values() if s["wikidata_id"])
    by_label = {r["subject_label"]: r["subject_id"] for r in rows}
    assert by_label["Adolf Hitler"] == "Q352" and by_label["Björk"].startswith("kl:")
    assert sum(r["subject_id"].startswith("kl:") for r in rows) == 22
    card = " ".join((SHIPPED / name / "README.md").read_text().split())
    assert "no Wikidata Q-id" not in card and "named these entities only by an English label" in card
    assert "of 23 row(s) came from a source row that gave only its English label. Linked to a Wikidata item: 1," in card


@pytest.mark.parametrize("name", NAMES)
def test_the_specs_presets_build_the_shipped_sets(name):
    """The data presets that `kedit run specs/*.yaml` builds from ask for the same dataset as the
    shipped set's spec, so the main job edits exactly the rows committed in datasets/."""
    preset = yaml.safe_load((SHIPPED.parent / "specs" / "presets" / f"{name}_data.yaml").read_text())
    shipped = yaml.safe_load((SHIPPED / f"{name}.spec.yaml").read_text())
    assert as_dict(parse_config(preset["datasets"][name]["wikidata"])) == as_dict(parse_config(shipped["dataset"]["wikidata"]))


def test_the_three_sets_hold_the_same_facts():
    """The same edits (fact, prompt, target) in the same order; only the subject and the prompts
    that name it differ. Neighbours avoid every name a set edits, so distinct's 100 names (some
    of them also real people's) change which neighbours are drawn; grouped keeps same's."""
    def rows(name, skip=("subject", "paraphrase_prompts")):
        return [{k: v for k, v in r.items() if k not in skip} for r in load_rows(SHIPPED / name)]

    assert rows("same_subject") == rows("grouped_subject")
    assert rows("distinct_subject", (*NEIGHBOURS, "subject", "paraphrase_prompts")) == rows(
        "grouped_subject", (*NEIGHBOURS, "subject", "paraphrase_prompts"))


def test_the_grouped_card_states_its_shape():
    card = " ".join((SHIPPED / "grouped_subject" / "README.md").read_text().split())
    assert "The rows are about 10 subjects with 10 facts each" in card and "policy `grouped`" in card
    assert "100 rows about 100 distinct relations, 10 distinct subject name(s)." in card
