"""Tokenise prompt (+ target) rows and locate the subject's last token and the target tokens.

Positions come from the tokenizer's character offsets, so they are right whatever the
tokenizer prepends (BOS) or how it merges a leading space into a word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from kedit.editing.requests import split_template


@dataclass(frozen=True)
class TextRow:
    """One sequence: ``prefix`` (+ ``target``, scored token by token under teacher forcing).

    ``subject`` is the character span of the subject inside ``prefix``, if the row needs
    the subject's last token (keys are read there and value deltas added there).
    """

    prefix: str
    target: str = ""
    subject: tuple[int, int] | None = None


@dataclass
class EncodedRows:
    """Right-padded token ids and the positions the engine reads.

    input_ids, attention_mask: (B, T)
    subject_pos: (B,) index of the subject's last token, -1 where the row has no subject
    last_pos: (B,) index of the last token fed (the prompt's end when there is no target)
    pred_row, pred_pos, pred_target: (N,) over all target tokens of all rows: the row,
        the position whose logits predict the token, and the token id
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    subject_pos: torch.Tensor
    last_pos: torch.Tensor
    pred_row: torch.Tensor
    pred_pos: torch.Tensor
    pred_target: torch.Tensor

    def to(self, device) -> "EncodedRows":
        return EncodedRows(**{k: v.to(device) for k, v in vars(self).items()})


def with_target(prefix: str, target: str) -> str:
    """The target as it follows ``prefix``: a space is put between words where neither side has one."""
    if prefix and not prefix[-1].isspace() and target and not target[0].isspace():
        return " " + target
    return target


def subject_row(template: str, subject: str, target: str = "") -> TextRow:
    """A row for the subject template ``template`` (one "{}", literal braces doubled; see
    :func:`~kedit.editing.requests.split_template`) with ``subject`` in its slot, verbatim,
    and the subject's character span."""
    head, tail = split_template(template)
    text = head + subject + tail
    return TextRow(prefix=text, target=with_target(text, target), subject=(len(head), len(head) + len(subject)))


def encode_rows(tok, rows: Sequence[TextRow]) -> EncodedRows:
    """Tokenise ``prefix + target`` for each row; the last target token is not fed (nothing reads its logits)."""
    enc = tok([r.prefix + r.target for r in rows], return_offsets_mapping=True, add_special_tokens=True)
    ids_list, subj, last, pred_row, pred_pos, pred_tgt = [], [], [], [], [], []
    for b, (row, ids, offsets) in enumerate(zip(rows, enc["input_ids"], enc["offset_mapping"])):
        real = [i for i, (s, e) in enumerate(offsets) if e > s]  # skip zero-width special tokens
        target_idx = [i for i in real if offsets[i][1] > len(row.prefix)] if row.target else []
        if row.target and not target_idx:
            raise ValueError(f"target {row.target!r} produced no tokens after {row.prefix!r}")
        if target_idx and target_idx[0] == 0:
            raise ValueError(f"row {row.prefix!r}: the target starts the sequence, nothing predicts it")
        if row.subject is None:
            subj.append(-1)
        else:
            s0, s1 = row.subject
            inside = [i for i in real if offsets[i][0] < s1 and offsets[i][1] > s0]
            if not inside:
                raise ValueError(f"subject span {row.subject} of {row.prefix!r} covers no token")
            subj.append(inside[-1])
        n_fed = target_idx[-1] if target_idx else len(ids)
        ids_list.append(ids[:n_fed])
        last.append(n_fed - 1)
        for i in target_idx:
            pred_row.append(b)
            pred_pos.append(i - 1)
            pred_tgt.append(ids[i])
    width = max(len(x) for x in ids_list)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0  # padded positions are masked out
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for b, ids in enumerate(ids_list):
        input_ids[b, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        mask[b, : len(ids)] = 1
    as_long = lambda xs: torch.tensor(xs, dtype=torch.long)  # noqa: E731
    return EncodedRows(input_ids, mask, as_long(subj), as_long(last), as_long(pred_row), as_long(pred_pos), as_long(pred_tgt))


def row_nll(logp: torch.Tensor, targets: torch.Tensor, rows: torch.Tensor, n_rows: int) -> torch.Tensor:
    """Each row's negative log-likelihood of its target tokens, averaged over those tokens.

    logp: (N, vocab) log-probabilities at the positions that predict the N target tokens
    targets, rows: (N,) each token's id and row (``EncodedRows.pred_target``, ``pred_row``)
    returns: (n_rows,) on ``rows``' device; 0 for a row without target tokens
    """
    tok_logp = logp.gather(1, targets[:, None]).squeeze(1)  # (N,)
    n_tok = torch.bincount(rows, minlength=n_rows).clamp(min=1)
    return -torch.zeros(n_rows, device=rows.device).index_add(0, rows, tok_logp) / n_tok
