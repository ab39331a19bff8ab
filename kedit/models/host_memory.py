"""glibc's malloc set to keep the memory the process frees (Linux with glibc; elsewhere nothing).

On the CPU, PyTorch takes every tensor from ``malloc``. As shipped, glibc serves a block over
its mmap threshold (128 KiB, rising with the blocks freed to at most 32 MiB) with fresh pages
and gives them back on ``free``, and trims its heap once 128 KiB lie free at the top. A value
step makes and frees the same few hundred megabytes of activations every time (the head's
log-probabilities alone are positions x vocabulary floats, 68 MB for SmolLM2 at 346
positions), so each step faults every page back in, zero-filled: ~95 000 page faults a step
of the grouped 10 x 10 batch on SmolLM2-135M. Kept, the next step reuses them (almost no
faults): that batch's value optimisation ~6 % faster in whole runs, for ~9 % more peak memory
(``benchmarks/results/malloc_smollm2-135m.md``). The results are the same either way.

``KEDIT_MALLOC=default`` keeps glibc's own settings (``keep``, the default, sets them).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

# mallopt(3) parameters: M_TRIM_THRESHOLD (free memory at the heap's top that is kept),
# M_TOP_PAD (the heap grows by at least this much), M_MMAP_THRESHOLD (only larger blocks get
# pages of their own; fixing it also stops glibc's dynamic threshold).
KEEP = {-1: 1 << 30, -2: 256 << 20, -3: 512 << 20}  # mallopt takes a C int: at most 2 GiB - 1


def keep_freed_memory() -> bool:
    """Apply ``KEEP`` with glibc's ``mallopt`` unless ``KEDIT_MALLOC=default``; True if it was applied."""
    choice = os.environ.get("KEDIT_MALLOC", "keep")
    if choice == "default":
        return False
    if choice != "keep":
        log.warning("KEDIT_MALLOC=%r is neither 'keep' nor 'default'; keeping freed memory (kedit's default)", choice)
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # no C library found, or not glibc (macOS, musl without mallopt)
        return False
    return all(mallopt(param, value) == 1 for param, value in KEEP.items())
