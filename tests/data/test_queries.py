"""Query builders: strict validation of every user value, and queries that run on the snapshot."""

from __future__ import annotations

import pytest

from kedit.data import queries

BAD_PROPERTY_IDS = ["Q5", "p19", "P", "P0", "P19 ", "P19} . ?s ?p ?o {", "P19\n", 19, None, "wdt:P19"]
BAD_ITEM_IDS = ["P5", "Q", "Q05", "Q5; DROP ALL", 5]
BAD_LIMITS = [0, -1, "10", 1.5, True, "10 } LIMIT 1"]
BAD_LANGUAGES = ["EN", "e", "english", 'en") || true || ("', "en-", "en-US", ""]


@pytest.mark.parametrize("value", BAD_PROPERTY_IDS)
def test_bad_property_id_is_refused_by_name(value):
    with pytest.raises(ValueError, match="property id") as err:
        queries.relation_facts(value)
    assert repr(value) in str(err.value)


@pytest.mark.parametrize("value", BAD_ITEM_IDS)
def test_bad_item_id_is_refused_by_name(value):
    with pytest.raises(ValueError, match="item id") as err:
        queries.relation_facts("P19", subject_class=value)
    assert repr(value) in str(err.value)


@pytest.mark.parametrize("value", BAD_LIMITS)
def test_bad_limit_is_refused_by_name(value):
    with pytest.raises(ValueError, match="positive integer") as err:
        queries.relation_facts("P19", limit=value)
    assert repr(value) in str(err.value)


@pytest.mark.parametrize("value", BAD_LANGUAGES)
def test_bad_language_is_refused_by_name(value):
    with pytest.raises(ValueError, match="language code") as err:
        queries.relation_discovery(lang=value)
    assert repr(value) in str(err.value)


def test_relation_labels_validates_every_id():
    with pytest.raises(ValueError, match="'P1 P2'"):
        queries.relation_labels(["P19", "P1 P2"])


def test_queries_use_portable_labels_and_bounds():
    facts = queries.relation_facts("P19", "pt-br", 50)
    assert "wdt:P19" in facts and "LIMIT 50" in facts and 'LANG(?subjectLabel) = "pt-br"' in facts
    discovery = queries.relation_discovery("en", 1234)
    assert "LIMIT 1234" in discovery and "wikibase:directClaim" in discovery and "wd:Q5" in discovery
    assert "SERVICE" not in facts + discovery


def test_compact():
    assert queries.compact("http://www.wikidata.org/entity/Q42") == "Q42"
    assert queries.compact("http://www.wikidata.org/prop/direct/P19") == "P19"
    assert queries.compact("http://kedit.local/entity/x_1") == "kl:x_1"
    assert queries.compact("http://example.org/a") == "http://example.org/a"


def test_queries_run_on_the_snapshot(offline_client):
    discovered = offline_client.select(queries.relation_discovery())
    by_id = {queries.compact(r["relation"]): r for r in discovered}
    assert by_id["P19"]["relationLabel"] == "place of birth" and int(by_id["P19"]["subjects"]) >= 3
    labels = offline_client.select(queries.relation_labels(["P19", "P27"]))
    assert sorted(r["relationLabel"] for r in labels) == ["country of citizenship", "place of birth"]
    facts = offline_client.select(queries.relation_facts("P19", limit=5))
    assert len(facts) == 5 and set(facts[0]) == {"subject", "subjectLabel", "object", "objectLabel"}


@pytest.mark.parametrize("value", ["date", "Item", "", None, "string"])
def test_bad_value_type_is_refused_by_name(value):
    with pytest.raises(ValueError, match="value type") as err:
        queries.relation_facts("P19", value_types=[value])
    assert repr(value) in str(err.value)
    with pytest.raises(ValueError, match="no value types"):
        queries.relation_discovery(value_types=[])


def test_literal_values_on_the_snapshot(offline_client):
    """Dates come back as their year, quantities as numbers; items-only queries leave literal
    relations out, and adding literal types does not change an item relation's facts."""
    def discovered(types):
        return {queries.compact(r["relation"]) for r in offline_client.select(queries.relation_discovery(value_types=types))}

    items, everything = discovered(["item"]), discovered(["item", "time", "quantity"])
    assert {"P2031", "P1971"} <= everything - items and "P19" in items and items < everything
    assert "P1971" not in discovered(["item", "time"])
    dates = offline_client.select(queries.relation_facts("P2031", value_types=["time"]))
    assert dates and all(r["object"].endswith("-01-01T00:00:00Z") and r["objectLabel"] == r["object"][:4] for r in dates)
    counts = offline_client.select(queries.relation_facts("P1971", value_types=["quantity"]))
    assert counts and all(r["objectLabel"].isdigit() for r in counts)
    assert offline_client.select(queries.relation_facts("P2031")) == []  # a date has no label

    def facts(types):
        return sorted(tuple(sorted(r.items())) for r in offline_client.select(queries.relation_facts("P26", value_types=types)))

    assert facts(["item", "time", "quantity"]) == facts(["item"]) != []


def test_literal_forms_of_live_wikidata(tmp_path):
    """Wikidata writes quantities with a sign ("+4"; oxigraph stores the canonical "4") and
    holds BC dates and strings: a label has no "+", a BC year keeps its "-", other datatypes
    are left out."""
    from kedit.data.embedded import EmbeddedEndpoint

    ttl = tmp_path / "mini.ttl"
    ttl.write_text(
        "@prefix wd: <http://www.wikidata.org/entity/> . @prefix wdt: <http://www.wikidata.org/prop/direct/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        'wd:Q1 wdt:P31 wd:Q5 ; rdfs:label "A"@en ; wdt:P9 "+4"^^xsd:decimal , "-0044-03-15T00:00:00Z"^^xsd:dateTime ,'
        ' "some id" , wd:Q2 , wd:Q3 .\n'
        'wd:Q2 rdfs:label "B"@en .\n', encoding="utf-8")
    endpoint = EmbeddedEndpoint(ttl)

    def labels(types):
        return sorted(r["objectLabel"] for r in endpoint.select(queries.relation_facts("P9", value_types=types)))

    assert labels(["item", "time", "quantity"]) == ["-44", "4", "B"]
    assert labels(["quantity"]) == ["4"] and labels(["time"]) == ["-44"] and labels(["item"]) == ["B"]
