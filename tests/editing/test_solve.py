"""kedit.editing.solve: the float64 least-squares updates."""

from __future__ import annotations

import torch


def test_float64_is_used_for_the_solve_whatever_the_model_dtype():
    from kedit.editing.solve import memit_update

    k = torch.randn(3, 8, dtype=torch.float32)
    r = torch.randn(3, 5, dtype=torch.float32)
    upd = memit_update(k, r, torch.eye(8), 1e-12)
    assert upd.dtype == torch.float64 and upd.shape == (5, 8)
    # float64 rounding only: measured residual <= 5e-13 on values ~1. 1e-12 I + K Kᵀ (rank 3 of 8)
    # has a condition number ~1e12 that float32 (eps 1.2e-7) could not solve; a wrong solve is O(1) off
    torch.testing.assert_close((upd @ k.double().T).T, r.double(), rtol=0, atol=1e-6)


def test_earlier_keys_enter_the_solve():
    from kedit.editing.solve import memit_update

    k = torch.randn(2, 6, dtype=torch.float64)
    r = torch.randn(2, 3, dtype=torch.float64)
    kept = torch.randn(4, 6, dtype=torch.float64)
    plain = memit_update(k, r, torch.eye(6), 1.0)
    keeping = memit_update(k, r, torch.eye(6), 1.0, kept.T @ kept)
    # keeping earlier keys shrinks what the update does to them
    assert (keeping @ kept.T).norm() < (plain @ kept.T).norm()
