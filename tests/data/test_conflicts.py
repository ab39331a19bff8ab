"""Contradictory and duplicate edits: found at load time, handled by the declared policy, recorded."""

from __future__ import annotations

import pytest

from kedit.data.conflicts import DEFAULT, POLICIES, ConflictError, find_collisions, resolve
from kedit.data.formats import convert_rows
from kedit.editing.requests import make_requests
from tests.data.test_formats import ZSRE


def _edits(*rows):
    return make_requests([dict(subject=s, prompt=p, target_new=t, relation_id=r) for s, p, t, r in rows])


EDITS = _edits(
    ("John Smith", "{} was born in", "Tokyo", "P19"),     # 0 ┐ same subject and relation,
    ("John Smith", "{}'s birthplace is", "Paris", "P19"),  # 1 ┘ different targets: contradictory
    ("John Smith", "{}'s employer is", "Google", None),    # 2 ┐ same prompt, same target:
    ("John Smith", "{}'s  employer is ", " Google", None),  # 3 ┘ duplicates (white space aside)
    ("Ada", "{}'s birthplace is", "Paris", "P19"),         # 4   another subject: no collision
    ("John Smith", "{}'s father is", "Mark", "P22"),       # 5   another relation: no collision
)


def test_same_subject_and_relation_or_prompt_collide_and_targets_decide_the_kind():
    found = find_collisions(EDITS)
    assert [(c.rows, c.contradictory) for c in found] == [((0, 1), True), ((2, 3), False)]
    assert found[0].on == "relation P19" and found[1].on == "prompt \"John Smith's employer is\""


def test_collisions_chain_through_relation_and_prompt():
    edits = _edits(("S", "{} a", "x", "P1"), ("S", "{} b", "y", "P1"), ("S", "{} b", "z", None))
    assert [c.rows for c in find_collisions(edits)] == [(0, 1, 2)]


@pytest.mark.parametrize("policy, kept, dropped", [
    ("warn", [0, 1, 2, 3, 4, 5], []),
    ("keep_first", [0, 2, 4, 5], [1, 3]),
    ("keep_last", [1, 3, 4, 5], [0, 2]),
    ("drop", [2, 4, 5], [0, 1, 3]),
])
def test_each_policy_keeps_what_it_says_and_records_the_rows(policy, kept, dropped):
    out = resolve(EDITS, policy)
    assert out.kept == kept
    assert out.provenance == {"policy": policy, "contradictory": [[0, 1]], "duplicates": [[2, 3]], "dropped_rows": dropped}
    assert out.lines[0].startswith(f"1 group(s) of contradictory edits and 1 of duplicates; conflicts: {policy}")
    assert "row 0: subject 'John Smith', relation P19: rows 0, 1 teach contradictory new targets 'Tokyo', 'Paris'" in out.lines


def test_the_default_refuses_and_names_every_group_and_the_way_out():
    assert DEFAULT == "error" and set(POLICIES) == {"error", "warn", "keep_first", "keep_last", "drop"}
    with pytest.raises(ConflictError) as err:
        resolve(EDITS, where=lambda i: f"d.jsonl:{i + 1}", index=lambda i: i + 10)
    assert str(err.value) == (
        "2 groups of contradictory or duplicate edits:\n"
        "  d.jsonl:1: subject 'John Smith', relation P19: rows 10, 11 teach contradictory new targets 'Tokyo', 'Paris'\n"
        "  d.jsonl:3: subject 'John Smith', prompt \"John Smith's employer is\": rows 12, 13 teach the same new target 'Google' 2 times\n"
        "set dataset.conflicts to drop | keep_first | keep_last | warn to run anyway (README: Contradictory and duplicate edits)"
    )


def test_a_clean_dataset_passes_every_policy_untouched():
    clean = [EDITS[i] for i in (0, 2, 4, 5)]
    for policy in POLICIES:
        out = resolve(clean, policy)
        assert out.kept == [0, 1, 2, 3] and out.lines == [] and out.provenance["contradictory"] == []


def test_mend_zsre_one_question_with_six_answers_is_one_contradictory_group():
    records = [{**ZSRE, "alt": alt} for alt in ("A", "B", "C", "D", "E", "F")] + [{**ZSRE, "subject": "Other", "src": "What university did Other attend?"}]
    rows, _, _ = convert_rows(records)
    (group,) = find_collisions(make_requests(rows))
    assert group.rows == (0, 1, 2, 3, 4, 5) and group.targets == ("A", "B", "C", "D", "E", "F")
    assert resolve(make_requests(rows), "drop").kept == [6]


def test_many_groups_are_listed_up_to_a_limit():
    edits = _edits(*[(f"S{i}", "{} is", t, None) for i in range(30) for t in ("x", "y")])
    out = resolve(edits, "warn")
    assert len(out.provenance["contradictory"]) == 30 and len(out.lines) == 1 + 20 + 1 and out.lines[-1] == "... and 10 more"
    with pytest.raises(ConflictError) as err:
        resolve(edits)
    assert len(err.value.problems) == 30 and "... and 10 more" in str(err.value)


def test_a_built_dataset_is_checked_too(tmp_path):
    """The same name for every subject and two facts per relation: contradictory by construction."""
    from kedit.experiment.data import materialise
    from kedit.experiment.errors import RunError

    cfg = {"wikidata": {"endpoint": "offline", "relations": {"sample": 2}, "per_relation": 2}}
    with pytest.raises(RunError, match=r"dataset 'd': 2 groups of contradictory or duplicate edits:\n  row 0: subject 'John Smith', relation P\d+: rows 0, 1"):
        materialise("d", cfg, tmp_path)
    kept = materialise("d", {**cfg, "conflicts": "keep_last"}, tmp_path)
    assert [r["case_id"] for r in kept.rows] == [1, 3] and kept.provenance["conflicts"]["dropped_rows"] == [0, 2]
