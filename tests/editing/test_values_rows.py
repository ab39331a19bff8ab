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
