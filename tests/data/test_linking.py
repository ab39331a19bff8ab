"""Linking snapshot-local (kl:) subjects: only an exact label held by one item with a
statement in common links; every other subject keeps its kl: id with the reason."""

from __future__ import annotations

import pytest

from kedit.data import linking, queries
from kedit.data.facts import Fact


def fact(subject_id: str, label: str) -> Fact:
    return Fact("P0", subject_id, "Q1", label, "x")


def test_the_shipped_sets_people_on_the_snapshot(offline_client):
    links = {link.label: link for link in linking.link_subjects([
        fact("kl:Adolf_Hitler_63c4153a", "Adolf Hitler"),      # one Adolf Hitler (Q352); both: allegiance German Empire
        fact("kl:John_Hughes_cbabaf30", "John Hughes"),        # a footballer; the only John Hughes, Q311263, is the film-maker
        fact("kl:George_Clinton_b11adaa5", "George Clinton"),  # the politician; Q336272 is the funk musician
        fact("kl:Bj_rk_c562f7b5", "Björk"),                    # no Björk among the snapshot's humans
        fact("Q42", "Douglas Adams"),                          # already a Q-id: not a kl: subject
    ], offline_client.select)}
    assert sorted(links) == ["Adolf Hitler", "Björk", "George Clinton", "John Hughes"]
    assert (links["Adolf Hitler"].wikidata_id, links["Adolf Hitler"].reason) == ("Q352", "linked")
    assert (links["John Hughes"].wikidata_id, links["John Hughes"].reason) == (None, "no_shared_statement")
    assert links["John Hughes"].candidates == ("Q311263",)
    assert (links["George Clinton"].reason, links["George Clinton"].candidates) == ("no_shared_statement", ("Q336272",))
    assert (links["Björk"].reason, links["Björk"].candidates) == ("no_item_with_label", ())


def test_a_label_several_items_hold_stays_local(offline_client):
    """Sting: two humans of the snapshot carry the label, so neither is chosen."""
    (link,) = linking.link_subjects([fact("kl:Sting_19716b0a", "Sting")], offline_client.select)
    assert (link.wikidata_id, link.reason, link.candidates) == (None, "several_items_with_label", ("Q44640", "Q483203"))


def test_decisions_from_the_answers(monkeypatch):
    """The rule on a knowledge base's answers: a link needs one candidate and a shared statement."""
    answers = [
        {"local": "http://kedit.local/entity/a", "item": "http://www.wikidata.org/entity/Q1", "shared": "2"},
        {"local": "http://kedit.local/entity/b", "item": "http://www.wikidata.org/entity/Q2", "shared": "3"},
        {"local": "http://kedit.local/entity/b", "item": "http://www.wikidata.org/entity/Q3", "shared": "0"},
        {"local": "http://kedit.local/entity/c", "item": "http://www.wikidata.org/entity/Q4", "shared": "0"},
    ]
    asked = []
    links = linking.link_subjects([fact("kl:a", "A"), fact("kl:b", "B"), fact("kl:c", "C"), fact("kl:d", "D")],
                                  lambda query: asked.append(query) or answers, subject_class="Q5")
    assert [(x.local_id, x.wikidata_id, x.reason) for x in links] == [
        ("kl:a", "Q1", "linked"), ("kl:b", None, "several_items_with_label"),
        ("kl:c", None, "no_shared_statement"), ("kl:d", None, "no_item_with_label")]
    assert len(asked) == 1 and "VALUES ?local { kl:a kl:b kl:c kl:d }" in asked[0] and "wdt:P31 wd:Q5" in asked[0]


def test_no_local_subject_asks_nothing():
    def select(query):
        raise AssertionError("no query expected")

    assert linking.link_subjects([fact("Q42", "Douglas Adams")], select) == []


def test_counts_are_per_row_and_provenance_lists_each_subject(offline_client):
    facts = [fact("kl:Adolf_Hitler_63c4153a", "Adolf Hitler"), fact("kl:Adolf_Hitler_63c4153a", "Adolf Hitler"),
             fact("kl:Bj_rk_c562f7b5", "Björk"), fact("Q42", "Douglas Adams")]
    links = linking.link_subjects(facts, offline_client.select)
    assert linking.row_counts(links, facts) == {"local_subject": 3, "linked": 2, "no_item_with_label": 1,
                                                "several_items_with_label": 0, "no_shared_statement": 0}
    record = linking.provenance(links)
    assert record["rule"] == linking.RULE and [s["local_id"] for s in record["subjects"]] == ["kl:Adolf_Hitler_63c4153a", "kl:Bj_rk_c562f7b5"]
    assert record["subjects"][0] == {"local_id": "kl:Adolf_Hitler_63c4153a", "label": "Adolf Hitler", "wikidata_id": "Q352",
                                     "reason": "linked", "candidates": ["Q352"]}


@pytest.mark.parametrize("bad", ["kl:a b", "kl:", "Q5", "kl:x}", 'kl:x"'])
def test_only_local_ids_enter_the_query(bad):
    with pytest.raises(ValueError, match="is not a snapshot-local id"):
        queries.label_matches([bad])
