"""Packing the rows of the still-active groups into the passes of one optimisation step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from kedit.editing.values.first_pass import Chunk
from kedit.models.prefix import PackedTails, pack_tails


@dataclass
class Pass:
    """Rows of several chunks packed into lines for one forward/backward (see
    ``kedit.models.prefix.PackedTails``); per row (R,) or per target token (N,)."""

    tails: PackedTails
    hidden_in: torch.Tensor  # (L, W, d) input of block `layer`, laid out like the tokens
    subject: torch.Tensor  # (R,) column of the subject's last token in the row's line (tails.line)
    pred_row: torch.Tensor  # (N,) row within the pass
    pred_col: torch.Tensor  # (N,) column whose logits predict the token
    pred_target: torch.Tensor  # (N,)
    group: torch.Tensor  # (R,)
    weight: torch.Tensor  # (R,)
    is_kl: torch.Tensor  # (R,)


def pack_passes(chunks: Sequence[Chunk], active: torch.Tensor, together: bool, tokens_per_pass: int, mask_dtype, pad_id: int) -> list[Pass]:
    """The rows of the ``active`` (G,) groups, packed into passes.

    together: rows of every chunk share lines under a block mask, longest tails first, each
    pass at most ``tokens_per_pass`` tail tokens; otherwise one pass per chunk, one row per line.
    """
    picked = [active[c.group].nonzero().squeeze(1) for c in chunks]
    if together:
        selections = _by_tail_length(chunks, picked, tokens_per_pass, active.device)
    else:
        selections = [[idx if j == i else idx[:0] for j, idx in enumerate(picked)] for i, idx in enumerate(picked) if len(idx)]
    return [_pack([(c, idx) for c, idx in zip(chunks, sel) if len(idx)], together, mask_dtype, pad_id) for sel in selections]


def _by_tail_length(chunks: Sequence[Chunk], picked: Sequence[torch.Tensor], tokens_per_pass: int, device) -> list[list[torch.Tensor]]:
    """Per pass, per chunk, the rows (of those ``picked``) it takes: longest tails first,
    each pass filled up to ``tokens_per_pass`` tail tokens."""
    rows = [(i, b, n) for i, (c, idx) in enumerate(zip(chunks, picked)) for b, n in zip(idx.tolist(), c.split.tail_mask[idx].sum(1).tolist())]
    rows.sort(key=lambda r: -r[2])
    parts, size = [], tokens_per_pass
    for i, b, n in rows:
        if size + n > tokens_per_pass:
            parts.append([[] for _ in chunks])
            size = 0
        parts[-1][i].append(b)
        size += n
    return [[torch.tensor(bs, dtype=torch.long, device=device) for bs in part] for part in parts]


def _pack(used: Sequence[tuple[Chunk, torch.Tensor]], together: bool, mask_dtype, pad_id: int) -> Pass:
    """One pass of the rows ``idx`` of each ``(chunk, idx)``, in that order."""
    tails = pack_tails([c.split for c, _ in used], [idx for _, idx in used], together, mask_dtype, pad_id)
    pred_row, pred_col, pred_target, start = [], [], [], 0
    for c, idx in used:
        local = torch.full((len(c.group),), -1, dtype=torch.long, device=idx.device)  # chunk row -> row in the pass
        local[idx] = torch.arange(start, start + len(idx), device=idx.device)
        start += len(idx)
        keep = local[c.pred_row] >= 0
        pred_row.append(local[c.pred_row[keep]])
        pred_col.append(c.pred_pos[keep])
        pred_target.append(c.pred_target[keep])
    pred_row = torch.cat(pred_row)
    cat = lambda name: torch.cat([getattr(c, name)[idx] for c, idx in used])  # noqa: E731
    return Pass(
        tails=tails,
        hidden_in=tails.place([c.hidden_in for c, _ in used]),
        subject=tails.col + cat("subject"),
        pred_row=pred_row,
        pred_col=tails.col[pred_row] + torch.cat(pred_col),
        pred_target=torch.cat(pred_target),
        group=cat("group"),
        weight=cat("weight"),
        is_kl=cat("is_kl"),
    )
