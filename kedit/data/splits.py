"""Tuning and test splits: two halves that share no relation and no subject name.

Every relation id and every name belongs to one half, fixed by the parity of the sha256 of
``kedit-split:<key>`` (even: ``tune``, odd: ``test``). The half depends on the key alone,
not on the seed, the other settings or the knowledge base, so a ``tune`` build and a
``test`` build never share a relation or a name, whatever else differs between their specs.
``all`` keeps every key. About half of any set of keys falls in each half (the snapshot's
102 relations with two subjects: 49 tune, 53 test; the 3,959 built-in names: 1,979 tune).
"""

from __future__ import annotations

import hashlib
from typing import Literal

#: The values of ``dataset.wikidata.split``.
Split = Literal["all", "tune", "test"]


def half(key: str) -> str:
    """``"tune"`` or ``"test"``: the half that a relation id or a name belongs to."""
    digest = hashlib.sha256(f"kedit-split:{key}".encode()).hexdigest()
    return "tune" if int(digest, 16) % 2 == 0 else "test"


def keeps(split: str, key: str) -> bool:
    """Whether ``split`` may use ``key`` (``all`` uses every key)."""
    return split == "all" or half(key) == split
