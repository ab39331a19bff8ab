"""build_dataset on the embedded snapshot: policies, templates, neighbours, determinism, bad input."""

from __future__ import annotations

import logging

import pytest

from kedit.data import schema
from kedit.data.builder import build_dataset
from kedit.data.errors import BuildError, ConfigError
from kedit.data.subjects import load_names

SMALL = {"endpoint": "offline", "seed": 3, "relations": {"sample": 6}}


def build(offline_client, **overrides):
    cfg = {**SMALL, **overrides}
    return build_dataset(cfg, offline_client)


def test_rows_carry_ids_labels_prompts_and_targets(offline_client):
    built = build(offline_client, relations={"ids": ["P19", "P27"]}, per_relation=2)
    assert [r["case_id"] for r in built.rows] == [0, 1, 2, 3]
    assert [r["relation_id"] for r in built.rows] == ["P19", "P19", "P27", "P27"]
    for row in built.rows:
        assert list(row) == list(schema.fields())
        assert row["prompt"].count("{}") == 1 and row["target_new"] == row["object_label"]
        assert row["subject_id"].startswith(("Q", "kl:")) and row["object_id"].startswith(("Q", "kl:"))
    birth = built.rows[0]
    assert birth["relation_phrase"] == "birthplace"  # from relation_phrases.yaml, not the label
    assert birth["relation_label"] == "place of birth"
    assert birth["prompt"] == "{}'s birthplace is"
    assert birth["paraphrase_prompts"] == ["The name of the birthplace of John Smith is"]
    assert built.rows[0]["subject_id"] != built.rows[1]["subject_id"]  # per_relation rows: distinct subjects


def test_literal_valued_relations(offline_client):
    """Listed date and quantity relations build rows whose targets are a year and a number;
    the discovered candidates grow by the literal relations only when their types are asked for."""
    rows = build(offline_client, relations={"ids": ["P1971", "P2031"], "value_types": ["item", "time", "quantity"]}).rows
    children, start = rows
    assert children["target_new"].isdigit() and children["object_id"] == children["target_new"]
    assert start["target_new"].isdigit() and len(start["target_new"]) == 4
    assert start["object_id"] == f"{start['target_new']}-01-01T00:00:00Z" and start["prompt"] == "{}'s start of work period is"
    with pytest.raises(BuildError, match="P2031 returned no facts"):
        build(offline_client, relations={"ids": ["P2031"]})  # items only: a date is not a labelled item
    items = build(offline_client, relations={"sample": None})
    everything = build(offline_client, relations={"sample": None, "value_types": ["item", "time", "quantity"]})
    assert everything.provenance["counts"]["relations_available"] > items.provenance["counts"]["relations_available"]
    assert ({r["relation_id"] for r in everything.rows} - {r["relation_id"] for r in items.rows}
            == {"P570", "P1350", "P1971", "P2031", "P2032"})  # P569: 2 subjects, under the default min_subjects 3


@pytest.mark.parametrize("value, message", [(["date"], r"value_types\[0\]: 'date' is not one of \['item', 'time', 'quantity'\]"),
                                            ([], r"value_types: \[\] should be non-empty")])
def test_bad_value_types(offline_client, value, message):
    with pytest.raises(ConfigError, match=message):
        build(offline_client, relations={"sample": 6, "value_types": value})


def test_the_schema_lists_every_value_type_and_policy():
    """The choices the schema offers are the ones the queries and the registries know."""
    from kedit.data import queries, subjects, targets
    from kedit.data.config import WikidataConfig
    from kedit.spec.schema import dataclass_schema

    props = dataclass_schema(WikidataConfig)["properties"]
    assert props["relations"]["properties"]["value_types"]["items"]["enum"] == list(queries.VALUE_TYPES)
    assert props["subjects"]["properties"]["policy"]["enum"] == subjects.POLICIES.names()
    assert props["target"]["enum"] == targets.POLICIES.names()


def test_same_policy(offline_client):
    rows = build(offline_client, subjects={"policy": "same", "name": "Ada Lovelace"}).rows
    assert {r["subject"] for r in rows} == {"Ada Lovelace"} and len({r["relation_id"] for r in rows}) == 6


def test_distinct_policy(offline_client):
    rows = build(offline_client, subjects={"policy": "distinct"}).rows
    names = [r["subject"] for r in rows]
    assert len(set(names)) == len(names) == 6 and set(names) <= set(load_names("builtin"))


def test_distinct_policy_from_a_file(offline_client, tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(f"Person {i}" for i in range(6)) + "\n")
    rows = build(offline_client, subjects={"policy": "distinct", "names": str(path)}).rows
    assert sorted(r["subject"] for r in rows) == [f"Person {i}" for i in range(6)]


def test_original_policy_with_counterfactual_targets(offline_client):
    rows = build(offline_client, subjects={"policy": "original"}, target="counterfactual").rows
    for row in rows:
        assert row["subject"] == row["subject_label"]
        assert row["target_true"] == row["object_label"] and row["target_new"] != row["target_true"]
        assert row["paraphrase_prompts"][0].endswith(f"of {row['subject_label']} is")


def test_neighbours_are_other_real_subjects(offline_client):
    rows = build(offline_client, subjects={"policy": "original"}, neighbors={"same_relation": 2, "other_relation": 1}).rows
    edited = {r["subject_label"] for r in rows}
    for row in rows:
        assert len(row["neighborhood_prompts"]) == 3
        phrases = [n["prompt"] for n in row["neighborhood_prompts"]]
        assert all(f"'s {row['relation_phrase']} is" in p for p in phrases[:2])
        assert f"'s {row['relation_phrase']} is" not in phrases[2]
        for n in row["neighborhood_prompts"]:
            assert not any(n["prompt"].startswith(f"{label}'s ") for label in edited)
            assert n["target"]


def test_same_policy_neighbours_never_use_the_shared_name(offline_client):
    rows = build(offline_client).rows
    assert all(not n["prompt"].startswith("John Smith") for r in rows for n in r["neighborhood_prompts"])


def test_determinism_and_seed(offline_client):
    a, b = build(offline_client), build(offline_client)
    assert a.rows == b.rows and a.fingerprint == b.fingerprint and a.provenance == b.provenance
    assert build(offline_client, seed=4).fingerprint != a.fingerprint


def test_provenance(offline_client):
    prov = build(offline_client).provenance
    assert prov["embedded"] is True and prov["endpoint"] == "offline" and len(prov["snapshot_sha256"]) == 64
    assert prov["seed"] == 3 and prov["counts"]["rows"] == 6 and prov["counts"]["relations_available"] == 88
    assert len(prov["queries"]) == 8 and all(q["source"] == "embedded" and len(q["sha256"]) == 64 for q in prov["queries"])
    assert all(len(q["rows_sha256"]) == 64 for q in prov["queries"])  # which answer was used, wherever it came from


def test_local_subjects_are_linked_only_with_evidence(offline_client):
    """Two rows' subjects came as labels only (kl:): Richard Pryor links (one item with the label
    and a statement in common), Khadija Arib keeps her kl: id (one item, no statement in common);
    the 8th query is the one that asked."""
    built = build(offline_client)
    ids = {r["subject_label"]: r["subject_id"] for r in built.rows}
    assert ids["Richard Pryor"] == "Q294912" and ids["Khadija Arib"] == "kl:Khadija_Arib_60e577a2"
    assert built.provenance["counts"]["local_subjects"] == {
        "local_subject": 2, "linked": 1, "no_item_with_label": 0, "several_items_with_label": 0, "no_shared_statement": 1}
    subjects = {s["label"]: s for s in built.provenance["subject_links"]["subjects"]}
    assert subjects["Richard Pryor"] == {"local_id": "kl:Richard_Pryor_ff3dc9c7", "label": "Richard Pryor",
                                         "wikidata_id": "Q294912", "reason": "linked", "candidates": ["Q294912"]}
    assert subjects["Khadija Arib"]["reason"] == "no_shared_statement" and subjects["Khadija Arib"]["candidates"] == ["Q458066"]


def test_raw_query(offline_client):
    query = """PREFIX wdt: <http://www.wikidata.org/prop/direct/>
    PREFIX wd: <http://www.wikidata.org/entity/>
    PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    SELECT ?subject ?subjectLabel ?relation ?relationLabel ?object ?objectLabel WHERE {
      VALUES ?relation { wd:P22 wd:P25 }
      ?relation <http://wikiba.se/ontology#directClaim> ?claim ; rdfs:label ?relationLabel .
      ?subject ?claim ?object ; wdt:P31 wd:Q5 ; rdfs:label ?subjectLabel . ?object rdfs:label ?objectLabel .
    }"""
    rows = build(offline_client, query=query, relations={}).rows
    assert [r["relation_id"] for r in rows] == ["P22", "P25"]
    assert rows[0]["relation_phrase"] == "father"


# ---- bad input -------------------------------------------------------------------------


def test_raw_query_with_zero_rows(offline_client):
    with pytest.raises(BuildError, match="returned zero rows"):
        build(offline_client, query="SELECT ?subject WHERE { ?subject <http://example.org/none> ?x }")


def test_raw_query_missing_columns(offline_client):
    with pytest.raises(BuildError, match=r"lacks \?subjectLabel"):
        build(offline_client, query="SELECT ?subject WHERE { ?subject ?p ?o } LIMIT 3")


def test_relation_without_facts(offline_client):
    with pytest.raises(BuildError, match="P999999"):
        build(offline_client, relations={"ids": ["P19", "P999999"]})


def test_fewer_relations_than_asked(offline_client):
    with pytest.raises(BuildError) as err:
        build(offline_client, relations={"sample": 200})
    assert "200" in str(err.value) and "88" in str(err.value)


def test_fewer_relations_allowed_is_warned_and_recorded(offline_client, caplog):
    with caplog.at_level(logging.WARNING):
        built = build(offline_client, relations={"sample": 200, "allow_fewer": True})
    assert len(built.rows) == 88 and built.provenance["allow_fewer_used"] is True
    assert built.provenance["counts"]["relations_requested"] == 200
    assert any("allow_fewer" in r.message for r in caplog.records)


def test_fewer_facts_than_asked(offline_client):
    with pytest.raises(BuildError, match=r"P5389 has \d+ subjects; 11 are needed"):
        build(offline_client, relations={"ids": ["P5389"]}, per_relation=10)


def test_fewer_facts_allowed_drops_the_relation(offline_client):
    built = build(offline_client, relations={"ids": ["P19", "P27", "P5389"], "allow_fewer": True}, per_relation=10)
    assert {r["relation_id"] for r in built.rows} == {"P19", "P27"} and built.provenance["dropped_relations"] == ["P5389"]


def test_other_relation_neighbours_need_another_relation(offline_client):
    with pytest.raises(BuildError, match="relations other than P19: 0 other subjects available, 1 neighbour"):
        build(offline_client, relations={"ids": ["P19"]})
    assert build(offline_client, relations={"ids": ["P19"]}, neighbors={"other_relation": 0}).rows


@pytest.mark.parametrize("bad", ["Q5", "P19; DROP ALL", "19", "p19"])
def test_relation_id_that_is_not_a_p_id(offline_client, bad):
    with pytest.raises(ConfigError) as err:
        build(offline_client, relations={"ids": ["P19", bad]})
    assert "dataset.wikidata.relations.ids[1]" in str(err.value) and repr(bad) in str(err.value)
    assert err.value.pointer == "/relations/ids/1"


@pytest.mark.parametrize("key", ["edit", "neighborhood"])
def test_template_without_subject(offline_client, key):
    with pytest.raises(ConfigError) as err:
        build(offline_client, templates={key: "The {relation} is"})
    assert f"dataset.wikidata.templates.{key}" in str(err.value) and "'The {relation} is'" in str(err.value)


def test_paraphrase_template_without_subject(offline_client):
    with pytest.raises(ConfigError) as err:
        build(offline_client, templates={"paraphrase": ["{subject} has {relation}", "Nobody's {relation}"]})
    assert "dataset.wikidata.templates.paraphrase[1]" in str(err.value) and "Nobody's {relation}" in str(err.value)
    assert err.value.pointer == "/templates/paraphrase/1"


def test_template_with_unknown_field(offline_client):
    with pytest.raises(ConfigError, match=r"unknown field \{object\}"):
        build(offline_client, templates={"edit": "{subject}'s {relation} is {object}"})


def test_name_list_shorter_than_the_distinct_set(offline_client):
    with pytest.raises(BuildError) as err:
        build(offline_client, subjects={"policy": "distinct", "names": ["Ann Lee", "Bob Ray", "Ann Lee"]})
    assert "2 distinct names" in str(err.value) and "6 rows" in str(err.value)


def test_missing_name_file(offline_client, tmp_path):
    with pytest.raises(BuildError, match="cannot read name file"):
        build(offline_client, subjects={"policy": "distinct", "names": str(tmp_path / "absent.txt")})


@pytest.mark.parametrize("section,message", [
    ({"relation": {}}, r"dataset\.wikidata: unknown key\(s\) 'relation'"),
    ({"relations": ["P19"]}, r"dataset\.wikidata\.relations: \['P19'\] is not of type 'object'"),
    ({"subjects": {"policy": "random"}}, r"dataset\.wikidata\.subjects\.policy: 'random' is not one of \['distinct', 'grouped', 'mixed', 'original', 'same'\]"),
    ({"target": "new"}, r"dataset\.wikidata\.target: 'new' is not one of \['counterfactual', 'object'\]"),
    ({"per_relation": 0}, r"dataset\.wikidata\.per_relation: 0 is less than the minimum of 1"),
    ({"seed": "1"}, r"dataset\.wikidata\.seed: '1' is not of type 'integer'"),
    ({"relations": {"sample": "all"}}, r"dataset\.wikidata\.relations\.sample: 'all' is not of type 'integer' or 'null'"),
    ({"language": "EN"}, r"dataset\.wikidata\.language: 'EN' is not a language code"),
    ({"neighbors": {"same_relation": -1}}, r"dataset\.wikidata\.neighbors\.same_relation: -1 is less than the minimum of 0"),
])
def test_config_errors_name_the_key(offline_client, section, message):
    with pytest.raises(ConfigError, match=message) as err:
        build_dataset({"endpoint": "offline", **section}, offline_client)
    # the pointer is the key the message names, within the section
    key = str(err.value).split(": ", 1)[0].removeprefix("dataset.wikidata")
    assert err.value.pointer == key.replace(".", "/")
