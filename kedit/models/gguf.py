"""Parse a GGUF file once, and quickly, while ``transformers`` dequantises it.

``transformers`` reads a GGUF checkpoint three times (config, tokenizer, weights), and each
``gguf.GGUFReader`` walks the whole metadata (SmolLM2's 49k-token vocabulary, element by
element); mapping the tensor names builds gguf's name table once per tensor (~8 s). Both are
pure functions of their arguments, so for the duration of one conversion they are memoised:
the same reader object and name table are handed back.

The reader itself slices its file ~250k times for that vocabulary, each slice of a
``numpy.memmap`` going through the subclass's Python ``__getitem__`` and
``__array_finalize__``; :class:`PlainReader` reads the same mapped bytes through a plain
``ndarray`` view, where a slice is a C call (the conversion of SmolLM2 took 8.8 s instead of
15.1 s, 2-core CPU). The dequantised files are byte-identical with and without either change
(SHA256SUMS compared, transformers 5.24, gguf 0.19). If a ``transformers`` release stops
looking these up on the ``gguf`` module, they are simply unused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import gguf
import numpy as np


class PlainReader(gguf.GGUFReader):
    """``gguf.GGUFReader`` whose ``data`` (the file's bytes, memory-mapped) is read through a
    plain ``ndarray`` view of the same map: same bytes, same fields, no Python per slice."""

    @property
    def data(self) -> np.ndarray:
        return self._plain

    @data.setter
    def data(self, mapped: np.memmap) -> None:
        # the view's base keeps the map open; anything but an array (a later gguf) is kept as given
        self._plain = mapped.view(np.ndarray) if isinstance(mapped, np.ndarray) else mapped


@contextmanager
def parsed_once() -> Iterator[None]:
    """Within the block, ``gguf.GGUFReader(path)`` is a :class:`PlainReader` and it and
    ``gguf.get_tensor_name_map(arch, n)`` return one object per distinct argument."""
    saved = gguf.GGUFReader, gguf.get_tensor_name_map
    gguf.GGUFReader, gguf.get_tensor_name_map = cache(PlainReader), cache(saved[1])
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = saved
