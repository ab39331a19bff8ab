"""Which tail tokens are one computation: rows of a group that agree up to a token share it.

Two tail tokens have the same state in every block at every step when their rows belong to
the same group (the same delta is added), are cut at the same position with the subject's
last token at the same position, and agree on every token up to and including them (causal
attention sees nothing later). MEMIT-Merge's merged groups are made of such rows: each fact
of a subject reads "{subject}'s ..." and the group's KL row is the subject alone, so a group
of ten facts has one subject token to compute, not eleven. Such tokens get one id, a node of
the group's token tree; ``kedit.models.prefix.pack_tails`` computes each node once and lets
every row through it attend to it.
"""

from __future__ import annotations

import torch


class TailTrees:
    """Node ids for the tail tokens of rows, batch after batch, shared where the tokens are."""

    def __init__(self):
        self._ids: dict[tuple, int] = {}

    def nodes(self, input_ids: torch.Tensor, lengths: torch.Tensor, start: torch.Tensor, subject: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
        """(B, S) node of each tail token (-1 past a row's end), S = longest tail.

        input_ids: (B, T) right-padded rows, ``lengths`` (B,) real tokens of each; the tails
        run from ``start`` (B,); subject (B,) where the delta is added; group (B,)
        """
        S = int((lengths - start).max())
        out = torch.full((len(input_ids), S), -1, dtype=torch.long)
        for b, (ids, n, s, subj, g) in enumerate(zip(input_ids.tolist(), lengths.tolist(), start.tolist(), subject.tolist(), group.tolist())):
            root = (g, s, subj, tuple(ids[: s + 1]))
            out[b, : n - s] = torch.tensor([self._ids.setdefault((root, tuple(ids[s : t + 1])), len(self._ids)) for t in range(s, n)])
        return out
