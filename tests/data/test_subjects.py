"""Subject policies grouped and mixed (k subjects x m facts, plus singles): shape, distinct
relations per subject, determinism, the same facts as same/distinct, and what cannot be built."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kedit.data.builder import build_dataset
from kedit.data.errors import BuildError, ConfigError
from kedit.data.facts import Fact
from kedit.data.subjects import assign_groups, load_names

BASE = {"endpoint": "offline", "seed": 3}


def build(offline_client, relations, subjects, **overrides):
    return build_dataset({**BASE, "relations": relations, "subjects": subjects, **overrides}, offline_client)


def profiles(rows) -> dict[str, list[str]]:
    """Subject name -> the relation ids of its rows."""
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row["subject"], []).append(row["relation_id"])
    return out


@pytest.mark.parametrize("relations, per_relation, groups, facts", [
    ({"sample": 12}, 1, 3, 4),  # every subject its own 4 of the 12 relations
    ({"sample": 4}, 3, 3, 4),  # every subject one fact of each of the 4 relations
    ({"sample": 6}, 2, 4, 3),
])
def test_grouped_gives_k_subjects_of_m_facts_of_distinct_relations(offline_client, relations, per_relation, groups, facts):
    built = build(offline_client, relations, {"policy": "grouped", "groups": groups, "facts": facts}, per_relation=per_relation)
    by_subject = profiles(built.rows)
    assert len(by_subject) == groups and all(len(r) == len(set(r)) == facts for r in by_subject.values())
    assert set(by_subject) <= set(load_names("builtin"))
    assert built.provenance["counts"]["distinct_subjects"] == groups


def test_mixed_counts(offline_client):
    built = build(offline_client, {"sample": 10}, {"policy": "mixed", "groups": 2, "facts": 4, "singles": 12}, per_relation=2)
    by_subject = profiles(built.rows)
    assert sorted(len(r) for r in by_subject.values()) == [1] * 12 + [4, 4]
    assert all(len(set(r)) == len(r) for r in by_subject.values())


def test_grouped_is_deterministic_and_seeded(offline_client):
    subjects = {"policy": "grouped", "groups": 3, "facts": 4}
    a, b = (build(offline_client, {"sample": 12}, subjects) for _ in range(2))
    assert a.rows == b.rows and a.fingerprint == b.fingerprint
    assert profiles(build(offline_client, {"sample": 12}, subjects, seed=4).rows) != profiles(a.rows)


def test_grouped_renames_the_facts_of_same_and_distinct(offline_client):
    """Only the subject (and the prompts that hold it) depends on the policy: 1 x n is `same` with a
    drawn name, n x 1 is `distinct`, and k x m lies between them on the very same facts."""
    def facts(rows):
        return [{k: v for k, v in r.items() if k not in ("subject", "paraphrase_prompts")} for r in rows]

    same = build(offline_client, {"sample": 6}, {"policy": "same"}).rows
    one = build(offline_client, {"sample": 6}, {"policy": "grouped", "groups": 1, "facts": 6}).rows
    each = build(offline_client, {"sample": 6}, {"policy": "grouped", "groups": 6, "facts": 1}).rows
    two = build(offline_client, {"sample": 6}, {"policy": "grouped", "groups": 2, "facts": 3}).rows
    assert facts(same) == facts(one) == facts(each) == facts(two)
    assert [len(profiles(rows)) for rows in (one, each, two)] == [1, 6, 2]


@given(st.integers(1, 12), st.integers(1, 4), st.data())
def test_assign_groups_fills_any_shape_that_fits(relations, per_relation, data):
    """Sizes of at most `relations` that add up to the rows: every group gets its size, of distinct relations."""
    rows = relations * per_relation
    group_sizes = []
    while sum(group_sizes) < rows:
        group_sizes.append(data.draw(st.integers(1, min(relations, rows - sum(group_sizes)))))
    facts = [Fact(f"P{r + 1}", f"Q{i}", "Q0", "s", "o") for r in range(relations) for i in range(per_relation)]
    owner = assign_groups(facts, group_sizes, random.Random(data.draw(st.integers(0, 9))))
    assert Counter(owner) == Counter(dict(enumerate(group_sizes)))
    for g in range(len(group_sizes)):
        mine = [facts[i].relation_id for i, o in enumerate(owner) if o == g]
        assert len(mine) == len(set(mine))


# ---- what cannot be built ----------------------------------------------------------------


@pytest.mark.parametrize("subjects, pointer, message", [
    ({"policy": "grouped"}, "/subjects", "policy 'grouped' needs subjects.groups and subjects.facts"),
    ({"policy": "grouped", "groups": 2}, "/subjects", "policy 'grouped' needs subjects.facts"),
    ({"policy": "mixed", "groups": 1, "facts": 4}, "/subjects", "policy 'mixed' needs subjects.singles"),
    ({"policy": "grouped", "groups": 0, "facts": 6}, "/subjects/groups", "0 is less than the minimum of 1"),
    ({"policy": "grouped", "groups": 1, "facts": -6}, "/subjects/facts", "-6 is less than the minimum of 1"),
    ({"policy": "mixed", "groups": 1, "facts": 4, "singles": 0}, "/subjects/singles", "0 is less than the minimum of 1"),
    ({"policy": "distinct", "groups": 2}, "/subjects/groups", "used only by the grouped and mixed policies, not by 'distinct'"),
    ({"policy": "grouped", "groups": 1, "facts": 3, "singles": 3}, "/subjects/singles", "used only by the mixed policy"),
    ({"policy": "grouped", "groups": 2, "facts": 2}, "/subjects/groups",
     "policy 'grouped' with 2 x 2 needs 4 rows but the set has 6 (6 relations x per_relation 1)"),
    ({"policy": "grouped", "groups": 1, "facts": 12}, "/subjects/groups", "needs 12 rows but the set has 6"),
])
def test_bad_shapes_name_the_key(offline_client, subjects, pointer, message):
    with pytest.raises(ConfigError) as err:
        build(offline_client, {"sample": 6}, subjects)
    assert err.value.pointer == pointer and message in str(err.value)


def test_more_facts_per_subject_than_relations_is_refused_before_the_build(offline_client):
    with pytest.raises(ConfigError) as err:
        build(offline_client, {"ids": ["P19", "P27"]}, {"policy": "grouped", "groups": 1, "facts": 4}, per_relation=2)
    assert err.value.pointer == "/subjects/facts"
    assert "4 facts per subject need 4 distinct relations but the set has 2 (2 relations x per_relation 2)" in str(err.value)


def test_more_facts_per_subject_than_the_snapshot_has_relations(offline_client):
    """All candidates (88 on the snapshot): a subject of 176 facts would need 176 relations."""
    with pytest.raises(BuildError, match="subjects.facts: 176 facts per subject need 176 distinct relations but the set has 88"):
        build(offline_client, {"sample": None}, {"policy": "grouped", "groups": 1, "facts": 176}, per_relation=2)


def test_fewer_relations_allowed_never_gives_a_smaller_grouped_set(offline_client):
    with pytest.raises(BuildError, match=r"with 10 x 3 needs 30 rows but the set has 20 \(the knowledge base supplied 2 relations\)"):
        build(offline_client, {"ids": ["P19", "P27", "P5389"], "allow_fewer": True},
              {"policy": "grouped", "groups": 10, "facts": 3}, per_relation=10)


def test_name_list_shorter_than_the_groups(offline_client):
    with pytest.raises(BuildError, match="subjects.names has 2 distinct names but 3 x 2 needs 3 subjects"):
        build(offline_client, {"sample": 6}, {"policy": "grouped", "groups": 3, "facts": 2, "names": ["Ann Lee", "Bob Ray"]})
