"""MEMIT (Meng et al., 2023) and MEMIT-Merge (same-subject batches).

MEMIT-Merge is MEMIT with ``group_by: subject``: requests about one subject share one
optimised value, which removes the conflict between their identical keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kedit.editing.solve import memit_update
from kedit.methods.context import EditContext
from kedit.methods.locate import LocateEditConfig, locate_and_edit
from kedit.methods.registry import register
from kedit.util import help_field


@dataclass
class MEMITConfig(LocateEditConfig):
    mom2_update_weight: float = help_field(15000.0, "λ: weight of the preserved-key second moment C in (λC + KKᵀ).", minimum=0)


@dataclass
class MEMITMergeConfig(MEMITConfig):
    group_by: Literal["none", "subject"] = help_field("subject", "MEMIT-Merge: one shared value per subject, losses summed.")


def compute_memit(ctx: EditContext, requests, cfg: MEMITConfig):
    moments = ctx.second_moments(cfg.layers)
    return locate_and_edit(ctx, requests, cfg, solve=lambda layer, k, r: memit_update(k, r, moments[layer], cfg.mom2_update_weight, ctx.earlier.get(layer)))


register("MEMIT", MEMITConfig, "Mass-editing memory in a transformer: least squares over several MLP layers.")(compute_memit)
register("MEMIT-Merge", MEMITMergeConfig, "MEMIT with one shared value per subject (same-subject batches).")(compute_memit)
