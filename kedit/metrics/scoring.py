"""Teacher-forced scoring of continuations: the one forward pass every rewrite metric uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from kedit.editing.tokens import TextRow, encode_rows
from kedit.models.architecture import get_module, head_logits
from kedit.models.prefix import pack_tails, split_rows, takes_block_masks

ROWS_PER_PASS = 128


@dataclass
class Scored:
    """Per row: predicted and target ids at the scored positions, and the target's log-probability.

    A row without a target is scored at its last position (the next token), target id -1.
    """

    predicted: torch.Tensor  # (m,) argmax ids
    target: torch.Tensor  # (m,)
    logprob: float  # sum of log p(target tokens); 0 for a row without target

    @property
    def accuracy(self) -> float:
        """Share of the target's tokens that are the argmax (EasyEdit's rewrite accuracy)."""
        return float((self.predicted == self.target).float().mean())

    @property
    def exact(self) -> float:
        """1.0 when every target token is the argmax (greedy decoding gives the whole target), else 0.0."""
        return float(bool((self.predicted == self.target).all()))


@dataclass(frozen=True)
class Observed:
    """The model in one phase (before or after an edit): the loaded model, and the
    teacher-forced scores of every text row the metrics declared, computed together
    (:func:`observe`). A metric reads its rows' scores here instead of scoring them itself."""

    loaded: object
    scores: Mapping[TextRow, Scored]

    def scored(self, rows: Sequence[TextRow]) -> list[Scored]:
        """The scores of ``rows``, in order (each must be among the rows observed)."""
        return [self.scores[r] for r in rows]


def observe(loaded, rows: Sequence[TextRow]) -> Observed:
    """Score ``rows`` (deduplicated) in one go, so that they share passes of long matrix products."""
    unique = list(dict.fromkeys(rows))
    return Observed(loaded, dict(zip(unique, score(loaded, unique))))


@torch.no_grad()
def score(loaded, rows: Sequence[TextRow]) -> list[Scored]:
    """Rows of similar length share a pass, packed into lines (``kedit.models.prefix.pack_tails``
    with nothing cached: a row's tail is the whole row); results in the order given."""
    model, arch = loaded.model, loaded.arch
    backbone = get_module(model, arch.backbone, arch.model_type)
    together, dtype, pad = takes_block_masks(model), next(model.parameters()).dtype, loaded.tokenizer.pad_token_id or 0
    order = sorted(range(len(rows)), key=lambda i: len(rows[i].prefix) + len(rows[i].target))
    out: list[Scored | None] = [None] * len(rows)
    for start in range(0, len(rows), ROWS_PER_PASS):
        at = order[start : start + ROWS_PER_PASS]
        part = [rows[i] for i in at]
        enc = encode_rows(loaded.tokenizer, part).to(loaded.device)
        split = split_rows(enc.input_ids, enc.attention_mask, torch.zeros_like(enc.last_pos), [], pad)
        packed = pack_tails([split], [torch.arange(len(part), device=loaded.device)], together, dtype, pad)
        h = backbone(**packed.forward_kwargs(model)).last_hidden_state  # (lines, width, d)
        no_target = [b for b, r in enumerate(part) if not r.target]
        row = torch.cat([enc.pred_row, torch.tensor(no_target, dtype=torch.long, device=loaded.device)])
        pos = torch.cat([enc.pred_pos, enc.last_pos[no_target]])
        tgt = torch.cat([enc.pred_target, torch.full((len(no_target),), -1, dtype=torch.long, device=loaded.device)])
        logp = torch.log_softmax(head_logits(model, h[packed.line[row], packed.cols[row, pos]]).float(), -1)
        pred = logp.argmax(-1)
        lp = torch.where(tgt >= 0, logp.gather(1, tgt.clamp(min=0)[:, None]).squeeze(1), torch.zeros_like(pred, dtype=torch.float32))
        for b, i in enumerate(at):
            sel = row == b
            out[i] = Scored(predicted=pred[sel].cpu(), target=tgt[sel].cpu(), logprob=float(lp[sel].sum()))
    return out
