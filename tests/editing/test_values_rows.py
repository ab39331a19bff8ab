"""kedit.editing.values.rows: the rows of each group and the first pass's batches of them."""

from __future__ import annotations

from kedit.editing.requests import group_indices
from kedit.editing.values.rows import build_rows

TEMPLATES = ["{}", "Hello there. {}"]


def test_each_group_has_a_row_per_fact_and_template_then_one_kl_row(reqs):
    groups = group_indices(reqs, "subject")
    assert groups == [[0], [1, 2], [3]]
    rows, roles = build_rows(reqs, groups, TEMPLATES, "{} is a")
    assert len(rows) == len(roles) == sum(len(g) * len(TEMPLATES) + 1 for g in groups)
    assert [r.group for r in roles] == [0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2]
    assert [r.is_kl for r in roles] == [False, False, True, False, False, False, False, True, False, False, True]
    assert rows[3].prefix == reqs[1].prompt.format(reqs[1].subject)
    assert rows[4].prefix == "Hello there. " + rows[3].prefix and rows[3].target == rows[4].target == " Tokyo"


def test_a_facts_rows_weigh_1_in_its_groups_sum_and_the_kl_row_nothing(reqs):
    _, roles = build_rows(reqs, [[0, 1, 2, 3]], TEMPLATES, "{} is a")
    assert sum(r.weight for r in roles) == 4.0
    assert [r.weight for r in roles if r.is_kl] == [0.0]


def test_the_initial_value_is_read_on_the_first_facts_bare_prompt_and_the_kl_row_ends_at_the_subject(reqs):
    groups = [[1, 2], [0]]
    rows, roles = build_rows(reqs, groups, TEMPLATES, "Sure: {} is a")
    init = [(r.group, row.prefix) for row, r in zip(rows, roles) if r.is_init]
    assert init == [(0, "John Smith's birthplace is"), (1, "Danielle Darrieux's mother tongue is")]
    kl = [row for row, r in zip(rows, roles) if r.is_kl]
    assert [(k.prefix, k.target, k.subject) for k in kl] == [("Sure: John Smith", "", (6, 16)), ("Sure: Danielle Darrieux", "", (6, 23))]


def test_passes_cover_every_row_once_and_pad_less_than_one_pass(tokenizer):
    from kedit.editing.tokens import subject_row
    from kedit.editing.values import (
        PASS_OVERHEAD_TOKENS,
        first_pass_batches,
        tail_length,
    )

    targets = ["Paris", "the United States of America", "a painter and sculptor of the Italian school", "Rome", "English"] * 7
    rows = [subject_row("{}'s birthplace is", "John Smith", t) for t in targets] + [subject_row("{} is a", "John Smith")] * 10
    tails = [tail_length(tokenizer, r) for r in rows]
    for budget in (2048, 64):
        parts = first_pass_batches(tokenizer, rows, budget)
        assert sorted(i for p in parts for i in p) == list(range(len(rows)))
        assert all(len(p) == 1 or len(p) * max(tails[i] for i in p) <= budget for p in parts)
        cost = sum(len(p) * max(tails[i] for i in p) + PASS_OVERHEAD_TOKENS for p in parts)
        if budget == 2048:
            assert len(parts) > 1 and cost < len(rows) * max(tails) + PASS_OVERHEAD_TOKENS  # beats one padded pass
        assert cost <= sum(t + PASS_OVERHEAD_TOKENS for t in tails)  # and one pass per row
