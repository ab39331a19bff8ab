"""AlphaEdit (Fang et al., ICLR 2025): MEMIT's update projected onto the null space of preserved knowledge.

The projector ``P`` comes from the same second moments MEMIT uses: eigenvectors of
``C = E[k kᵀ]`` with eigenvalue below ``nullspace_threshold`` span the directions preserved
keys do not use. The update ``Δ = R Kᵀ P (K Kᵀ P + λ I)⁻¹`` lies in the range of ``P``,
so ``Δ k₀ ≈ 0`` for every preserved key ``k₀``. Values, keys and the layer loop are MEMIT's.
"""

from __future__ import annotations

from dataclasses import dataclass

from kedit.editing.solve import alphaedit_update, null_space_projector
from kedit.methods.context import EditContext
from kedit.methods.locate import LocateEditConfig, locate_and_edit
from kedit.methods.registry import register
from kedit.util import help_field


@dataclass
class AlphaEditConfig(LocateEditConfig):
    L2: float = help_field(10.0, "λ: ridge term of (K Kᵀ P + λ I) (AlphaEdit's L2).", exclusiveMinimum=0)
    nullspace_threshold: float = help_field(2e-2, "Eigenvalues of E[k kᵀ] below this define the null space kept free.", exclusiveMinimum=0)


@register("AlphaEdit", AlphaEditConfig, "MEMIT's update projected onto the null space of preserved keys.")
def compute_alphaedit(ctx: EditContext, requests, cfg: AlphaEditConfig):
    moments = ctx.second_moments(cfg.layers)
    projectors = {layer: null_space_projector(moments[layer], cfg.nullspace_threshold) for layer in cfg.layers}
    return locate_and_edit(ctx, requests, cfg, solve=lambda layer, k, r: alphaedit_update(k, r, projectors[layer], cfg.L2, ctx.earlier.get(layer)))
