"""Tune and test splits: built with any other settings, they share no relation and no subject name."""

from __future__ import annotations

import pytest

from kedit.data import splits
from kedit.data.builder import build_dataset
from kedit.data.errors import BuildError, ConfigError
from kedit.data.subjects import load_names

WIDE = {"value_types": ["item", "time", "quantity"], "min_subjects": 2}


def build(offline_client, **section):
    return build_dataset({"endpoint": "offline", **section}, offline_client)


def test_halves_are_fixed_and_about_even():
    assert [splits.half(k) for k in ("P19", "P21", "John Smith")] == ["tune", "test", "tune"]
    names = load_names("builtin")
    assert len(load_names("builtin", "tune")) == 1979 and len(load_names("builtin", "test")) == len(names) - 1979
    assert set(load_names("builtin", "tune")).isdisjoint(load_names("builtin", "test"))
    assert splits.keeps("all", "P21") and not splits.keeps("tune", "P21")


def test_tune_and_test_share_no_relation_and_no_name(offline_client):
    """Different seeds, policies and sizes: still disjoint; each holds only its half."""
    tune = build(offline_client, seed=0, split="tune", relations={"sample": 40, **WIDE},
                 subjects={"policy": "grouped", "groups": 4, "facts": 10})
    test = build(offline_client, seed=7, split="test", relations={"sample": 30, **WIDE}, per_relation=2,
                 subjects={"policy": "mixed", "groups": 3, "facts": 10, "singles": 30})
    for built, split in ((tune, "tune"), (test, "test")):
        assert all(splits.half(r["relation_id"]) == split and splits.half(r["subject"]) == split for r in built.rows)
    assert {r["relation_id"] for r in tune.rows}.isdisjoint({r["relation_id"] for r in test.rows})
    assert {r["subject"] for r in tune.rows}.isdisjoint({r["subject"] for r in test.rows})


def test_a_split_offers_only_its_half_of_the_relations(offline_client):
    """102 relations with two subjects on the snapshot: 49 in tune, 53 in test."""
    counts = {s: build(offline_client, split=s, relations={"sample": 1, **WIDE}, subjects={"policy": "distinct"},
                       neighbors={"other_relation": 0}).provenance["counts"]["relations_available"]
              for s in ("all", "tune", "test")}
    assert counts == {"all": 102, "tune": 49, "test": 53}


def test_too_few_relations_in_a_split_names_the_split(offline_client):
    with pytest.raises(BuildError, match=r"asked for 60 relations but the embedded snapshot \(split test: the relations "
                                         r"of its half\) offers only 53 usable ones"):
        build(offline_client, split="test", relations={"sample": 60, **WIDE}, subjects={"policy": "distinct"})


@pytest.mark.parametrize("section, pointer, message", [
    ({"split": "test", "subjects": {"policy": "same"}}, "/subjects/name",
     "'John Smith' belongs to the tune split's half of names; split 'test' needs a name of its own half"),
    ({"split": "tune", "subjects": {"policy": "original"}}, "/split", "policy 'original' keeps the real subjects"),
    ({"split": "test", "relations": {"ids": ["P21", "P19"]}}, "/relations/ids/1",
     "P19 belongs to the tune split's relations, not to split 'test'"),
    ({"split": "train"}, "/split", "'train' is not one of ['all', 'tune', 'test']"),
])
def test_split_errors_name_the_key(offline_client, section, pointer, message):
    with pytest.raises(ConfigError) as err:
        build(offline_client, **section)
    assert err.value.pointer == pointer and message in str(err.value)


def test_same_policy_with_a_name_of_the_split(offline_client):
    rows = build(offline_client, split="tune", relations={"sample": 4}, subjects={"policy": "same"}).rows
    assert {r["subject"] for r in rows} == {"John Smith"} and all(splits.half(r["relation_id"]) == "tune" for r in rows)
