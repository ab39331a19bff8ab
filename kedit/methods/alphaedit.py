"""AlphaEdit (Fang et al., ICLR 2025): MEMIT's update projected onto the null space of preserved knowledge.

The projector ``P`` comes from the same second moments MEMIT uses: eigenvectors of
``C = E[k kᵀ]`` with eigenvalue below ``nullspace_threshold`` span the directions preserved
keys do not use. The update ``Δ = R Kᵀ P (K Kᵀ P + λ I)⁻¹`` lies in the range of ``P``,
so ``Δ k₀ ≈ 0`` for every preserved key ``k₀``. Values, keys and the layer loop are MEMIT's.
The config (:class:`~kedit.methods.configs.AlphaEditConfig`) lives in :mod:`kedit.methods.configs`.
"""

from __future__ import annotations

from kedit.editing.solve import alphaedit_update, null_space_projector
from kedit.methods.configs import AlphaEditConfig
from kedit.methods.context import EditContext
from kedit.methods.locate import locate_and_edit


def compute_alphaedit(ctx: EditContext, requests, cfg: AlphaEditConfig):
    moments = ctx.second_moments(cfg.layers)
    projectors = {layer: null_space_projector(moments[layer], cfg.nullspace_threshold) for layer in cfg.layers}
    return locate_and_edit(ctx, requests, cfg, solve=lambda layer, k, r, kept: alphaedit_update(k, r, projectors[layer], cfg.L2, kept))
