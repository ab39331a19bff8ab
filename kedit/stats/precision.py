"""The precision of the statistics pass, and what ``auto`` picks on a device.

``float32``: the forward runs in the model's dtype (``model.dtype``) and the keys' outer
products ``kᵀ k`` are taken in float32, as kedit always did. ``bfloat16``: the forward runs
under ``torch.autocast`` to bfloat16 and the outer products are taken in bfloat16. Either way
each batch's product is added to a float64 sum, and the mean is stored in float32.

bfloat16 pays only where the device multiplies bfloat16 matrices natively: an x86 CPU with
AVX512-BF16 or AMX (on a 2-core AMD EPYC with AVX512-BF16 the SmolLM2-135M pass runs 1.8-1.9x
faster at the same edit metrics: ``benchmarks/results/stats_precision_smollm2-135m.md``) or a
CUDA GPU of compute capability 8.0 or later. Elsewhere its products are emulated and can be
slower than float32 (not measured here), so ``auto`` picks float32 there.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch

AUTO = "auto"


@dataclass(frozen=True)
class Precision:
    """How one statistics pass computes; ``name`` enters the cache key of its moments."""

    name: str
    autocast: torch.dtype | None  # the forward under torch.autocast to this dtype; None: in the model's own dtype
    keys: torch.dtype  # the dtype the keys are multiplied in (k: (n_tokens, d_in), kᵀ k: (d_in, d_in))

    def forward(self, device: torch.device) -> AbstractContextManager:
        """The context the model's forward runs in on ``device``."""
        return nullcontext() if self.autocast is None else torch.autocast(device.type, dtype=self.autocast)


PRECISIONS = {p.name: p for p in (Precision("float32", None, torch.float32), Precision("bfloat16", torch.bfloat16, torch.bfloat16))}


def fast_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` multiplies bfloat16 matrices natively (not emulated in float32).

    On a CPU: AVX512-BF16 or AMX-BF16 among ``torch.cpu.get_capabilities()`` (torch's cpuinfo
    probe); a torch without that probe, and an ARM CPU (its bfloat16 matrix speed unmeasured
    here), answer False, so ``auto`` stays float32 there.
    """
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.get_device_capability(device) >= (8, 0)
    if device.type == "cpu":
        capabilities = getattr(torch.cpu, "get_capabilities", dict)()
        return bool(capabilities.get("avx512_bf16") or capabilities.get("amx_bf16"))
    return False


def resolve(name: str, device: torch.device) -> Precision:
    """The precision ``name`` (a key of :data:`PRECISIONS`, or ``"auto"``) means on ``device``:
    ``auto`` is bfloat16 where :func:`fast_bfloat16`, float32 elsewhere."""
    if name == AUTO:
        name = "bfloat16" if fast_bfloat16(device) else "float32"
    return PRECISIONS[name]
