"""kedit.editing.values.passes: the rows of the active groups, packed into passes."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from kedit.editing.requests import group_indices
from kedit.editing.values.first_pass import first_pass
from kedit.editing.values.model_parts import ModelParts
from kedit.editing.values.passes import pack_passes
from kedit.editing.values.rows import build_rows


@pytest.fixture
def chunks(small, reqs):
    """First-pass chunks of four groups of one fact, two templates: 3 rows per group, in 2 chunks."""
    parts = ModelParts.find(small, 2, [small.arch.block], None)
    rows, roles = build_rows(reqs, group_indices(reqs, None), ["{}", "Hello there. {}"], "{} is a")
    return first_pass(small, parts, rows, roles, len(reqs), 40, True).chunks


def rows_of(chunks, active):
    """(group, weight, is_kl, target tokens) of every row of the active groups."""
    out = Counter()
    for c in chunks:
        n_tok = torch.bincount(c.pred_row, minlength=len(c.group))
        for b in range(len(c.group)):
            if active[c.group[b]]:
                out[(int(c.group[b]), float(c.weight[b]), bool(c.is_kl[b]), int(n_tok[b]))] += 1
    return out


def packed_rows(passes):
    out = Counter()
    for p in passes:
        n_tok = torch.bincount(p.pred_row, minlength=len(p.group))
        out.update((int(g), float(w), bool(k), int(n)) for g, w, k, n in zip(p.group, p.weight, p.is_kl, n_tok))
    return out


@pytest.mark.parametrize("together", [True, False])
@pytest.mark.parametrize("budget", [2048, 6])
def test_every_row_of_an_active_group_is_in_exactly_one_pass_with_its_target_tokens(small, chunks, together, budget):
    assert len(chunks) > 1
    dtype = next(small.model.parameters()).dtype
    for active in (torch.ones(4, dtype=torch.bool), torch.tensor([True, False, True, False]), torch.tensor([False, False, False, True])):
        passes = pack_passes(chunks, active, together, budget, dtype, 0)
        assert packed_rows(passes) == rows_of(chunks, active)
        for p in passes:
            assert p.hidden_in.shape[:2] == p.tails.input_ids.shape
            assert p.pred_row.shape == p.pred_col.shape == p.pred_target.shape
            assert (p.subject < p.tails.input_ids.shape[1]).all() and (p.pred_col < p.tails.input_ids.shape[1]).all()


def test_rows_share_lines_when_packed_together_and_a_small_budget_makes_more_passes(small, chunks):
    dtype, active = next(small.model.parameters()).dtype, torch.ones(4, dtype=torch.bool)
    (together,) = pack_passes(chunks, active, True, 2048, dtype, 0)
    separate = pack_passes(chunks, active, False, 2048, dtype, 0)
    assert len(separate) == len(chunks)
    assert all(sorted(p.tails.line.tolist()) == list(range(len(p.group))) for p in separate)  # one row per line
    assert together.tails.input_ids.shape[0] < len(together.group)
    assert len(pack_passes(chunks, active, True, 6, dtype, 0)) > 1
