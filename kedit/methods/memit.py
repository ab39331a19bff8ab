"""MEMIT (Meng et al., 2023) and MEMIT-Merge (same-subject batches).

MEMIT-Merge is MEMIT with ``group_by: subject``: requests about one subject share one
optimised value, which removes the conflict between their identical keys. The configs
(:class:`~kedit.methods.configs.MEMITConfig`, ``MEMITMergeConfig``) and the registration
live in :mod:`kedit.methods.configs`.
"""

from __future__ import annotations

from kedit.editing.solve import memit_update
from kedit.methods.configs import MEMITConfig
from kedit.methods.context import EditContext
from kedit.methods.locate import locate_and_edit


def compute_memit(ctx: EditContext, requests, cfg: MEMITConfig):
    moments = ctx.second_moments(cfg.layers)
    return locate_and_edit(ctx, requests, cfg, solve=lambda layer, k, r, kept: memit_update(k, r, moments[layer], cfg.mom2_update_weight, kept))

