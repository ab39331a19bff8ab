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
