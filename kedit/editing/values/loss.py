"""The loss of each group: its facts' NLL, the KL term and the weight decay.

Per group: the sum over its facts of the fact's NLL (mean over its context rows, each
row's NLL averaged over target tokens), plus ``kl_factor`` x KL(current || initial) of the
next-token distribution after the subject on the KL prompt, plus ``v_weight_decay`` x
sum over sites of ||delta|| / ||initial value||^2 (MEMIT's form).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from kedit.editing.tokens import row_nll
from kedit.editing.values.model_parts import ModelParts
from kedit.editing.values.passes import Pass
from kedit.editing.values.settings import ValueSettings
from kedit.models.hooks import gather_at


def pass_loss(parts: ModelParts, p: Pass, h: torch.Tensor, kl_init: torch.Tensor | None, n_groups: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The NLL and KL terms of the groups in pass ``p``, differentiable.

    h: (L, W, d) output of the loss block on the pass's lines
    kl_init: (G, vocab) initial log-probabilities after the subject on the KL prompt
    returns: (G,) NLL summed over each group's facts, (G,) KL; 0 for groups not in the pass
    """
    device = parts.device
    # One head call for the target positions and the KL rows' subject positions (the
    # head's weight is the largest matrix a step reads).
    R, N = len(p.group), len(p.pred_row)
    kl_rows = p.is_kl.nonzero().squeeze(1)
    lines = torch.cat([p.tails.line[p.pred_row], p.tails.line[kl_rows]])
    logp = parts.next_token_logp(gather_at(h, lines, torch.cat([p.pred_col, p.subject[kl_rows]]), device))
    logp_nll, logp_kl = logp.split([N, len(kl_rows)])  # split, not slices: one dense gradient, not two
    nll = torch.zeros(n_groups, device=device).index_add(0, p.group, row_nll(logp_nll, p.pred_target, p.pred_row, R) * p.weight)
    kl_of_row = (logp_kl.exp() * (logp_kl - kl_init[p.group[kl_rows]])).sum(-1)
    kl = torch.zeros(n_groups, device=device).index_add(0, p.group[kl_rows], kl_of_row)
    return nll, kl


def weight_decay(deltas: Sequence[torch.Tensor], init_norm: Sequence[torch.Tensor]) -> torch.Tensor:
    """(G,) sum over sites of ||delta|| / ||initial value||^2; deltas: per site (G, d_site), init_norm: per site (G,)."""
    return sum(delta.norm(dim=-1) / init_norm[s] ** 2 for s, delta in enumerate(deltas))


def group_loss(nll: torch.Tensor, kl: torch.Tensor, decay: torch.Tensor, facts: torch.Tensor, settings: ValueSettings) -> torch.Tensor:
    """(G,) NLL per fact + ``kl_factor`` x KL + ``v_weight_decay`` x decay: what early stopping compares.

    nll: (G,) summed over each group's facts, of which there are ``facts`` (G,)
    """
    return nll / facts + settings.kl_factor * kl + settings.v_weight_decay * decay
