"""Recompute only the tail of each row, attending to a cached prefix.

When something is added at a per-row position ``start`` (the subject's last token), every
earlier position is unaffected in every layer: its keys and values can be computed once
and reused. :class:`SplitRows` holds those cached keys/values and the tail tokens, and
builds the forward arguments that run the tails alone with explicit positions.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch
from transformers import DynamicCache


def cache_argument(model) -> str:
    """The name the model's forward gives its KV cache (``cache`` in recent transformers)."""
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


@dataclass
class SplitRows:
    """Rows cut at ``start``: cached prefix (positions < start) and the tails to recompute.

    kv: per layer (keys, values), each (B, heads, T, head_dim), computed on the full rows
    prefix_mask: (B, T) 1 where a cached position is real and before the row's start
    input_ids, tail_mask, position_ids: (B, S) the tail tokens, their mask and absolute positions
    """

    kv: list[tuple[torch.Tensor, torch.Tensor]]
    prefix_mask: torch.Tensor
    input_ids: torch.Tensor
    tail_mask: torch.Tensor
    position_ids: torch.Tensor

    def rows(self, idx: torch.Tensor) -> "SplitRows":
        width = int(self.tail_mask[idx].sum(1).max())
        return SplitRows(
            kv=[(k[idx.to(k.device)], v[idx.to(v.device)]) for k, v in self.kv],  # layers may sit on other devices
            prefix_mask=self.prefix_mask[idx],
            input_ids=self.input_ids[idx, :width],
            tail_mask=self.tail_mask[idx, :width],
            position_ids=self.position_ids[idx, :width],
        )

    def forward_kwargs(self, model) -> dict:
        cache = DynamicCache(ddp_cache_data=self.kv)
        return {
            "input_ids": self.input_ids,
            "attention_mask": torch.cat([self.prefix_mask, self.tail_mask], dim=1),
            "position_ids": self.position_ids,
            cache_argument(model): cache,
            "use_cache": True,
        }


def gather_tails(x: torch.Tensor, start: torch.Tensor, lengths: torch.Tensor, fill=0) -> torch.Tensor:
    """``x`` (B, T, ...) -> (B, S, ...) with row b holding ``x[b, start[b] : lengths[b]]``, padded with ``fill``
    (on ``x``'s device, which may differ from that of ``start`` and ``lengths``)."""
    start, lengths = start.to(x.device), lengths.to(x.device)
    span = lengths - start
    S = int(span.max())
    j = torch.arange(S, device=x.device)
    idx = (start[:, None] + j[None]).clamp(max=x.shape[1] - 1)  # (B, S)
    out = x.gather(1, idx.view(*idx.shape, *([1] * (x.dim() - 2))).expand(*idx.shape, *x.shape[2:]))
    valid = (j[None] < span[:, None]).view(*idx.shape, *([1] * (x.dim() - 2)))
    return torch.where(valid, out, torch.full_like(out, fill))


def fits_window(model, width: int) -> bool:
    """Whether a cached prefix of ``width`` plus a tail of at most ``width`` stays inside the
    model's sliding attention window (cache slots count as positions there)."""
    window = getattr(model.config, "sliding_window", None)
    return window is None or 2 * width <= window


def split_rows(input_ids: torch.Tensor, attention_mask: torch.Tensor, start: torch.Tensor, kv, pad_id: int) -> SplitRows:
    """Cut right-padded rows (B, T) at ``start`` (B,); ``kv`` is the cache of a forward over the
    full rows, or empty to recompute whole rows (then ``start`` must be 0)."""
    lengths = attention_mask.sum(1)
    T = input_ids.shape[1] if kv else 0
    positions = torch.arange(T, device=input_ids.device)[None]
    tail_ids = gather_tails(input_ids, start, lengths, fill=pad_id)
    S = tail_ids.shape[1]
    tail_mask = (torch.arange(S, device=input_ids.device)[None] < (lengths - start)[:, None]).long()
    return SplitRows(
        kv=[(k.detach(), v.detach()) for k, v in kv],
        prefix_mask=(attention_mask[:, :T].bool() & (positions < start[:, None])).long(),
        input_ids=tail_ids,
        tail_mask=tail_mask,
        position_ids=start[:, None] + torch.arange(S, device=input_ids.device)[None],
    )


def cache_contents(cache) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per layer (keys, values) of a filled ``DynamicCache``."""
    return [(layer.keys, layer.values) for layer in cache.layers]
