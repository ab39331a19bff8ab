"""The delta-free first pass: initial values, initial KL distributions, and what is replayed.

Per batch of rows (``rows.first_pass_batches``) one forward with no delta reads the initial
site outputs (at each group's first fact, bare prompt) and the initial next-token
distribution of each group's KL row, and keeps what does not depend on the deltas: the
keys/values of every position before the subject's last token and the input of block
``layer`` on the tail (from the subject's last token on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import DynamicCache

from kedit.editing.tokens import EncodedRows, TextRow, encode_rows
from kedit.editing.values.model_parts import ModelParts
from kedit.editing.values.rows import RowRole, first_pass_batches
from kedit.editing.values.settings import NonFiniteError
from kedit.editing.values.trees import TailTrees
from kedit.models.hooks import gather_at, record, run_stopping
from kedit.models.prefix import SplitRows, cache_argument, cache_contents, fits_window, gather_tails, split_rows


@dataclass
class Chunk:
    """The rows of one first-pass batch, cut at the subject's last token (see ``kedit.models.prefix``).

    Everything is per row (B,) or per target token (N,), with positions relative to the tail.
    """

    split: SplitRows
    hidden_in: torch.Tensor  # (B, S, d) input of block `layer` on the tail (constant: replayed)
    subject: torch.Tensor  # (B,) subject's last token, within the tail
    pred_row: torch.Tensor  # (N,)
    pred_pos: torch.Tensor  # (N,) within the tail
    pred_target: torch.Tensor  # (N,)
    group: torch.Tensor  # (B,) group of each row
    weight: torch.Tensor  # (B,) weight of the row's NLL in its group's sum (1 / rows of its fact)
    is_kl: torch.Tensor  # (B,) bool: the group's KL row
    node: torch.Tensor  # (B, S) node of each tail token (-1 past the row's end): see ``trees``


@dataclass
class FirstPass:
    """What the optimisation steps start from."""

    chunks: list[Chunk]
    init: list[torch.Tensor]  # per site, (G, d_site) float32 output at each group's first row
    kl_init: torch.Tensor | None  # (G, vocab) float32 log-probabilities after the subject on the KL prompt


def first_pass(loaded, parts: ModelParts, rows: Sequence[TextRow], roles: Sequence[RowRole], n_groups: int, tokens_per_pass: int, reuse_frozen: bool) -> FirstPass:
    """Run ``rows`` (of ``n_groups`` groups) without delta, in batches of at most ``tokens_per_pass`` tail tokens.

    reuse_frozen: keep each row's cached prefix and cut it at the subject's last token;
    otherwise (or where the model's sliding window forbids it) whole rows are recomputed.
    raises NonFiniteError: the model's states overflow in its dtype
    """
    device = parts.device
    init: list[torch.Tensor | None] = [None] * len(parts.sites)
    kl_init: torch.Tensor | None = None
    chunks: list[Chunk] = []
    trees = TailTrees()
    pad_id = loaded.tokenizer.pad_token_id or 0
    dev = lambda xs, dt: torch.tensor(xs, dtype=dt, device=device)  # noqa: E731
    with torch.no_grad():
        for idx in first_pass_batches(loaded.tokenizer, rows, tokens_per_pass):
            enc = encode_rows(loaded.tokenizer, [rows[i] for i in idx]).to(device)
            group, weight, is_kl, is_init = (dev(x, dt) for x, dt in zip(zip(*(roles[i] for i in idx)), (torch.long, torch.float32, torch.bool, torch.bool)))
            cached = reuse_frozen and fits_window(parts.model, enc.input_ids.shape[1])
            seen, kv = _forward(parts, enc, cached)
            at_subject = torch.arange(len(idx), device=device), enc.subject_pos
            for s in range(len(parts.sites)):
                out = gather_at(seen[f"site{s}"], *at_subject, device).float()
                if init[s] is None:
                    init[s] = torch.zeros(n_groups, out.shape[-1], device=device)
                init[s][group[is_init]] = out[is_init]
            if is_kl.any():
                logp = parts.next_token_logp(gather_at(seen["h"], *at_subject, device)[is_kl])
                if kl_init is None:
                    kl_init = torch.zeros(n_groups, logp.shape[-1], device=device)
                kl_init[group[is_kl]] = logp
            start = enc.subject_pos if cached else torch.zeros_like(enc.subject_pos)
            lengths = enc.attention_mask.sum(1)
            chunks.append(
                Chunk(
                    split=split_rows(enc.input_ids, enc.attention_mask, start, kv, pad_id),
                    hidden_in=gather_tails(seen["hidden_in"], start, lengths),
                    subject=enc.subject_pos - start,
                    pred_row=enc.pred_row,
                    pred_pos=enc.pred_pos - start[enc.pred_row],
                    pred_target=enc.pred_target,
                    group=group,
                    weight=weight,
                    is_kl=is_kl,
                    node=trees.nodes(*(t.cpu() for t in (enc.input_ids, lengths, start, enc.subject_pos, group))).to(device),
                )
            )
    if not all(torch.isfinite(v).all() for v in init) or (kl_init is not None and not torch.isfinite(kl_init).all()):
        raise NonFiniteError.in_model(parts.model)
    return FirstPass(chunks, init, kl_init)


def _forward(parts: ModelParts, enc: EncodedRows, cached: bool) -> tuple[dict, list]:
    """One delta-free forward of ``enc``, stopped after the loss block: the states recorded
    (``hidden_in``: block ``layer``'s input, ``h``: the loss block's output, ``site{s}``: each
    site's output; all (B, T, d)) and the per-layer keys/values ([] unless ``cached``)."""
    model = parts.model
    cache = DynamicCache()
    reads = {"hidden_in": (parts.blocks[parts.layer], "input"), "h": (parts.loss_block, "output")}
    reads |= {f"site{s}": (m, "output") for s, m in enumerate(parts.sites)}
    with record(reads, stop_at=parts.loss_block) as seen:
        kwargs = {cache_argument(model): cache, "use_cache": True} if cached else {}
        run_stopping(lambda: model(input_ids=enc.input_ids, attention_mask=enc.attention_mask, **kwargs))
    return seen, (cache_contents(cache) if cached else [])

