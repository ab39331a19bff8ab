"""kedit.editing.values.loss: each group's NLL, KL and weight decay, checked by hand on small tensors."""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch

from kedit.editing.values import ValueSettings
from kedit.editing.values.loss import group_loss, pass_loss, weight_decay
from kedit.editing.values.passes import Pass


def logits_pass():
    """Two groups in one line of width 5 whose 'states' are logits over a vocabulary of 3.

    Group 0: one fact in two rows (weight 1/2 each), then its KL row. Group 1: a KL row only.
    Row 0 predicts token 1 at column 0; row 1 tokens 0 and 2 at columns 1, 2; the KL rows'
    subjects sit at columns 3 and 4.
    """
    h = torch.tensor([[[0.0, 1.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 3.0], [1.0, 0.0, -1.0], [0.0, 0.5, 0.0]]])  # (L=1, W=5, vocab=3)
    p = Pass(
        tails=SimpleNamespace(line=torch.zeros(4, dtype=torch.long)),
        hidden_in=None,
        subject=torch.tensor([0, 1, 3, 4]),
        edit_line=torch.zeros(4, dtype=torch.long),
        edit_col=torch.tensor([0, 1, 3, 4]),
        edit_group=torch.tensor([0, 0, 0, 1]),
        pred_row=torch.tensor([0, 1, 1]),
        pred_col=torch.tensor([0, 1, 2]),
        pred_target=torch.tensor([1, 0, 2]),
        group=torch.tensor([0, 0, 0, 1]),
        weight=torch.tensor([0.5, 0.5, 0.0, 0.0]),
        is_kl=torch.tensor([False, False, True, True]),
    )
    parts = SimpleNamespace(device=torch.device("cpu"), next_token_logp=lambda x: torch.log_softmax(x.float(), -1))
    return parts, p, h


def test_a_groups_nll_weighs_its_rows_mean_token_nll_and_its_kl_compares_with_the_initial_distribution():
    parts, p, h = logits_pass()
    logp = torch.log_softmax(h[0], -1)
    kl_init = torch.log_softmax(torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.5, 0.0]]), -1)  # group 1: unchanged
    nll, kl = pass_loss(parts, p, h, kl_init, n_groups=3)
    row0 = -logp[0, 1]
    row1 = -(logp[1, 0] + logp[2, 2]) / 2
    torch.testing.assert_close(nll, torch.stack([0.5 * row0 + 0.5 * row1, torch.tensor(0.0), torch.tensor(0.0)]))
    current = logp[3]
    expected_kl = (current.exp() * (current - kl_init[0])).sum()
    torch.testing.assert_close(kl, torch.stack([expected_kl, torch.tensor(0.0), torch.tensor(0.0)]))
    assert kl[0] > 0


def test_the_decay_sums_the_sites_delta_norms_over_their_initial_norms_squared():
    deltas = [torch.tensor([[3.0, 4.0], [0.0, 0.0]]), torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])]
    init_norm = [torch.tensor([1.0, 2.0]), torch.tensor([2.0, 4.0])]
    torch.testing.assert_close(weight_decay(deltas, init_norm), torch.tensor([5.0 + 1.0 / 4, 2.0 / 16]))


def test_the_group_loss_takes_the_nll_per_fact():
    settings = ValueSettings(v_lr=0.1, v_num_grad_steps=1, v_weight_decay=0.5, clamp_norm_factor=1.0, kl_factor=2.0, early_stop_loss=0.0, kl_prompt="{}", loss_layer=None)
    loss = group_loss(nll=torch.tensor([3.0, 1.0]), kl=torch.tensor([0.25, 0.0]), decay=torch.tensor([1.0, 2.0]), facts=torch.tensor([2.0, 1.0]), settings=settings)
    torch.testing.assert_close(loss, torch.tensor([1.5 + 0.5 + 0.5, 1.0 + 0.0 + 1.0]))
    assert math.isclose(float(loss.sum()), 4.5)
