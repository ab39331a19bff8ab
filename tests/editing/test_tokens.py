"""kedit.editing.tokens.row_nll: each row's mean NLL of its target tokens."""

from __future__ import annotations

import math

import torch

from kedit.editing.tokens import row_nll


def test_row_nll_averages_each_rows_target_tokens_and_gives_0_to_a_row_without_any():
    p = torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    logp = p.log()  # (N=3, vocab=3): rows 0, 2, 2 of 4
    out = row_nll(logp, targets=torch.tensor([0, 1, 2]), rows=torch.tensor([0, 2, 2]), n_rows=4)
    assert out.shape == (4,)
    expected = [-math.log(0.5), 0.0, -(math.log(0.8) + math.log(0.6)) / 2, 0.0]
    torch.testing.assert_close(out, torch.tensor(expected))


def test_row_nll_carries_the_gradient_to_the_scored_log_probabilities_only():
    logp = torch.log_softmax(torch.randn(3, 5, generator=torch.Generator().manual_seed(0)), -1).requires_grad_(True)
    row_nll(logp, torch.tensor([4, 0, 2]), torch.tensor([1, 1, 0]), 2).sum().backward()
    expected = torch.zeros(3, 5)
    expected[0, 4] = expected[1, 0] = -0.5  # row 1: two tokens
    expected[2, 2] = -1.0
    torch.testing.assert_close(logp.grad, expected)
