"""The locate-and-edit linear algebra, free of any model plumbing. Everything runs in float64.

Shapes: ``n`` edits, ``d_in`` key size (input of the edited projection), ``d_out`` its output size.
Updates are returned as ``(d_out, d_in)``, the ``nn.Linear`` layout.
"""

from __future__ import annotations

import torch


def memit_update(
    keys: torch.Tensor, residuals: torch.Tensor, second_moment: torch.Tensor, weight: float, kept: torch.Tensor | None = None
) -> torch.Tensor:
    """MEMIT's least-squares update ``Δ = R Kᵀ (λ C + K_e K_eᵀ + K Kᵀ)⁻¹``.

    keys: (n, d_in); residuals: (n, d_out) wanted change of the output at each key;
    second_moment: (d_in, d_in) ``C = E[k kᵀ]`` of preserved keys; weight: λ;
    kept: (d_in, d_in) ``K_e K_eᵀ`` of further keys to keep (edits applied before, other subjects), or None.
    returns: (d_out, d_in). As λ → 0 (and K of full column rank) ``Δ kᵢ = rᵢ`` exactly.
    """
    K = keys.double().T  # (d_in, n)
    R = residuals.double().T  # (d_out, n)
    A = weight * second_moment.double() + K @ K.T  # (d_in, d_in)
    if kept is not None:
        A = A + kept.double()
    return R @ torch.linalg.solve(A, K).T


def null_space_projector(second_moment: torch.Tensor, threshold: float = 1e-2) -> torch.Tensor:
    """AlphaEdit's projector onto the null space of the preserved keys: (d_in, d_in).

    Eigenvectors of ``C`` whose eigenvalue is below ``threshold`` span (numerically) the
    directions no preserved key uses; ``P = U Uᵀ`` over them.
    """
    eigvals, eigvecs = torch.linalg.eigh(second_moment.double())
    U = eigvecs[:, eigvals < threshold]
    return U @ U.T


def alphaedit_update(
    keys: torch.Tensor, residuals: torch.Tensor, projector: torch.Tensor, weight: float, kept: torch.Tensor | None = None
) -> torch.Tensor:
    """AlphaEdit: ``Δ = R Kᵀ P (K_p K_pᵀ P + K Kᵀ P + λ I)⁻¹``, so that ``Δ k₀ = 0`` for preserved keys.

    keys: (n, d_in); residuals: (n, d_out); projector: (d_in, d_in); kept: (d_in, d_in)
    ``K_p K_pᵀ`` of further keys to keep (edits applied before, other subjects), or None.
    """
    K = keys.double().T
    R = residuals.double().T
    P = projector.double()
    A = K @ K.T @ P + weight * torch.eye(P.shape[0], dtype=torch.float64, device=P.device)
    if kept is not None:
        A = A + kept.double() @ P
    # Δ = R Kᵀ P A⁻¹  ⇔  Aᵀ Δᵀ = P K Rᵀ   (P symmetric)
    return torch.linalg.solve(A.T, P @ K @ R.T).T


def average_key_distance(keys: torch.Tensor) -> float:
    """Mean pairwise L2 distance between the rows of ``keys`` (n, d); 0 for n < 2."""
    n = keys.shape[0]
    if n < 2:
        return 0.0
    d = torch.cdist(keys.double()[None], keys.double()[None])[0]
    return float(d.sum() / (n * (n - 1)))


def key_collisions(keys: torch.Tensor, rel_tol: float = 1e-3) -> int:
    """Number of pairs whose distance is below ``rel_tol`` x the mean key norm (identical or nearly so)."""
    n = keys.shape[0]
    if n < 2:
        return 0
    k = keys.double()
    d = torch.cdist(k[None], k[None])[0]
    tol = rel_tol * k.norm(dim=1).mean()
    return int((torch.triu(d <= tol, diagonal=1)).sum())
