"""Packing the rows of the still-active groups into the passes of one optimisation step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from kedit.editing.values.first_pass import Chunk
from kedit.models.prefix import PackedTails, first_of, pack_tails


@dataclass
class Pass:
    """Rows of several chunks packed into lines for one forward/backward (see
    ``kedit.models.prefix.PackedTails``); per row (R,) or per target token (N,)."""

    tails: PackedTails
    hidden_in: torch.Tensor  # (L, W, d) input of block `layer`, laid out like the tokens
    subject: torch.Tensor  # (R,) column of the subject's last token in the row's line (tails.line)
    edit_line: torch.Tensor  # (D,) where a delta is added: each subject token once, rows that share it counted once
    edit_col: torch.Tensor  # (D,)
    edit_group: torch.Tensor  # (D,) whose delta
    pred_row: torch.Tensor  # (N,) row within the pass
    pred_col: torch.Tensor  # (N,) column whose logits predict the token
    pred_target: torch.Tensor  # (N,)
    group: torch.Tensor  # (R,)
    weight: torch.Tensor  # (R,)
    is_kl: torch.Tensor  # (R,)


def pack_passes(chunks: Sequence[Chunk], active: torch.Tensor, together: bool, tokens_per_pass: int, mask_dtype, pad_id: int, key_cost: float = 0.0) -> list[Pass]:
    """The rows of the ``active`` (G,) groups, packed into passes.

    together: rows of every chunk share lines under a block mask, the tokens they share
    (``Chunk.node``) computed once, largest trees first, each pass at most ``tokens_per_pass``
    tail tokens; otherwise one pass per chunk, one row per line.
    key_cost: see ``kedit.models.prefix.pack_tails``
    """
    picked = [active[c.group].nonzero().squeeze(1) for c in chunks]
    if together:
        selections = _by_tree_size(chunks, picked, tokens_per_pass, active.device)
    else:
        selections = [[idx if j == i else idx[:0] for j, idx in enumerate(picked)] for i, idx in enumerate(picked) if len(idx)]
    return [_pack([(c, idx) for c, idx in zip(chunks, sel) if len(idx)], together, mask_dtype, pad_id, key_cost) for sel in selections]


def _by_tree_size(chunks: Sequence[Chunk], picked: Sequence[torch.Tensor], tokens_per_pass: int, device) -> list[list[torch.Tensor]]:
    """Per pass, per chunk, the rows (of those ``picked``) it takes: each tree (the rows whose
    first tail token is one node) whole, largest first, each pass filled up to
    ``tokens_per_pass`` tail tokens computed."""
    trees: dict[int, list[tuple[int, int]]] = {}
    nodes: dict[int, set[int]] = {}
    for i, (c, idx) in enumerate(zip(chunks, picked)):
        for b, row in zip(idx.tolist(), c.node[idx].tolist()):
            trees.setdefault(row[0], []).append((i, b))
            nodes.setdefault(row[0], set()).update(n for n in row if n >= 0)
    parts, size = [], tokens_per_pass
    for root in sorted(trees, key=lambda r: -len(nodes[r])):
        n = len(nodes[root])
        if size + n > tokens_per_pass:
            parts.append([[] for _ in chunks])
            size = 0
        for i, b in trees[root]:
            parts[-1][i].append(b)
        size += n
    return [[torch.tensor(bs, dtype=torch.long, device=device) for bs in part] for part in parts]


def _pack(used: Sequence[tuple[Chunk, torch.Tensor]], together: bool, mask_dtype, pad_id: int, key_cost: float) -> Pass:
    """One pass of the rows ``idx`` of each ``(chunk, idx)``, in that order."""
    tails = pack_tails([c.split for c, _ in used], [idx for _, idx in used], together, mask_dtype, pad_id, nodes=[c.node for c, _ in used], key_cost=key_cost)
    pred_row, pred_pos, pred_target, start = [], [], [], 0
    for c, idx in used:
        local = torch.full((len(c.group),), -1, dtype=torch.long, device=idx.device)  # chunk row -> row in the pass
        local[idx] = torch.arange(start, start + len(idx), device=idx.device)
        start += len(idx)
        keep = local[c.pred_row] >= 0
        pred_row.append(local[c.pred_row[keep]])
        pred_pos.append(c.pred_pos[keep])
        pred_target.append(c.pred_target[keep])
    pred_row = torch.cat(pred_row)
    cat = lambda name: torch.cat([getattr(c, name)[idx] for c, idx in used])  # noqa: E731
    group = cat("group")
    subject = tails.cols[torch.arange(len(group), device=group.device), cat("subject")]
    _, at = torch.unique(tails.line * tails.input_ids.shape[1] + subject, return_inverse=True)
    edit = first_of(at)  # a row through each subject token
    return Pass(
        tails=tails,
        hidden_in=tails.place([c.hidden_in for c, _ in used]),
        subject=subject,
        edit_line=tails.line[edit],
        edit_col=subject[edit],
        edit_group=group[edit],
        pred_row=pred_row,
        pred_col=tails.cols[pred_row, torch.cat(pred_pos)],
        pred_target=torch.cat(pred_target),
        group=group,
        weight=cat("weight"),
        is_kl=cat("is_kl"),
    )
