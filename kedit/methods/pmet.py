"""PMET (Li et al., AAAI 2024): precise model editing with attention and MLP deltas.

What differs from MEMIT, all in its config (value sites, :class:`~kedit.methods.configs.PMETConfig`)
and the spread and gap it gives the shared procedure:

- two deltas are optimised jointly at the last edited layer's subject token, one added
  to the attention output projection and one to the MLP output projection, each clamped
  relative to its own initial value (``clamp_norm_factor``);
- only the MLP value is used: the residual is taken against the MLP output of the last
  layer (not the residual stream), carried through the post-MLP norm where the block has
  one (:func:`pmet_gap`), and attention weights never change;
- each layer takes ``residual / sqrt(layers left)`` instead of MEMIT's ``/ layers left``.
"""

from __future__ import annotations

import math

import torch

from kedit.editing.solve import memit_update
from kedit.methods.configs import PMETConfig
from kedit.methods.context import EditContext
from kedit.methods.locate import locate_and_edit
from kedit.methods.post_norm import stream_change


def pmet_gap(loaded, layer: int, current: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """How far the residual stream moves (n, d) when the last layer's MLP output goes from
    ``current`` to PMET's ``value`` (n, d): through the post-MLP norm where there is one."""
    return stream_change(loaded, layer, current, value)


def pmet_spread(i: int, n_layers: int) -> float:
    """PMET's share of the residual for the ``i``-th of ``n_layers`` edited layers: 1 / sqrt(layers left)."""
    return 1.0 / math.sqrt(n_layers - i)


def compute_pmet(ctx: EditContext, requests, cfg: PMETConfig):
    moments = ctx.second_moments(cfg.layers)
    return locate_and_edit(
        ctx,
        requests,
        cfg,
        solve=lambda layer, k, r, kept: memit_update(k, r, moments[layer], cfg.mom2_update_weight, kept),
        spread=pmet_spread,
        gap=pmet_gap,
    )
