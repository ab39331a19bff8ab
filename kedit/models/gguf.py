"""Parse a GGUF file once while ``transformers`` dequantises it.

``transformers`` reads a GGUF checkpoint three times (config, tokenizer, weights), and each
``gguf.GGUFReader`` walks the whole metadata (SmolLM2's 49k-token vocabulary, element by
element: ~5 s a time on 2 cores); mapping the tensor names builds gguf's name table once per
tensor (~8 s). Both are pure functions of their arguments, so for the duration of one
conversion they are memoised: the same reader object and name table are handed back. The
dequantised files are byte-identical with and without the memo (SHA256SUMS compared, transformers 5.24). If a ``transformers`` release stops
looking these up on the ``gguf`` module, the memo is simply unused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import gguf


@contextmanager
def parsed_once() -> Iterator[None]:
    """Within the block, ``gguf.GGUFReader(path)`` and ``gguf.get_tensor_name_map(arch, n)``
    return one object per distinct argument."""
    saved = gguf.GGUFReader, gguf.get_tensor_name_map
    gguf.GGUFReader, gguf.get_tensor_name_map = cache(saved[0]), cache(saved[1])
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = saved
