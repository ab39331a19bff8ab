"""Recompute only the tail of each row, attending to a cached prefix.

When something is added at a per-row position ``start`` (the subject's last token), every
earlier position is unaffected in every layer: its keys and values can be computed once
and reused. :class:`SplitRows` holds those cached keys/values and the tail tokens;
:func:`pack_tails` lays the tails of many rows side by side (each attending to its own
prefix) and builds the forward arguments that run them with explicit positions.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
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


def takes_block_masks(model) -> bool:
    """Whether the model's attention applies a 4D additive mask as given: eager and SDPA
    attention do; flash attention (and flex attention's block masks) do not."""
    return getattr(model.config, "_attn_implementation", None) in ("eager", "sdpa")


@dataclass
class PackedTails:
    """The tails of many rows laid side by side in ``L`` lines of width ``W``.

    A row's tail tokens sit in line ``line[r]``, at columns ``cols[r]``; its cached prefix in
    that line's key slots after the prefixes of the line's earlier rows. A mask lets each
    token see only its own row's prefix and earlier tail tokens, so short rows share a line
    instead of being padded to the longest, and a pass of many short rows is one pass of
    long-enough matrix products. Tokens that several rows share (``nodes`` of
    :func:`pack_tails`) sit in one column that each of those rows reads.

    kv: per layer (keys, values), each (L, heads, P, head_dim): each line's rows' prefixes
    input_ids, position_ids: (L, W) tokens and their absolute positions within their rows
    mask: (L, 1, W, P + W) additive (0: may attend, dtype minimum: may not), or, with one row
        per line, the (L, P + W) padding mask the model turns into its own causal mask
    line: (R,) per row packed, in the order given
    cols: (R, S) column of each row's tail token (-1 past the row's end)
    """

    kv: list[tuple[torch.Tensor, torch.Tensor]]
    input_ids: torch.Tensor
    position_ids: torch.Tensor
    mask: torch.Tensor
    line: torch.Tensor
    cols: torch.Tensor
    places: list[tuple[torch.Tensor, ...]]  # per split: (row, j, line, column) of each column's token, once per column

    def place(self, xs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Per split, a (B_i, S_i, ...) tensor over its tails -> (L, W, ...) laid out like the tokens (0 elsewhere)."""
        L, W = self.input_ids.shape
        out = xs[0].new_zeros((L, W, *xs[0].shape[2:]))
        for x, idx in zip(xs, self.places):
            b, j, line, col = (i.to(x.device) for i in idx)
            out[line, col] = x[b, j].to(out.device)
        return out

    def forward_kwargs(self, model) -> dict:
        return {
            "input_ids": self.input_ids,
            "attention_mask": self.mask,
            "position_ids": self.position_ids,
            cache_argument(model): DynamicCache(ddp_cache_data=self.kv),
            "use_cache": True,
        }


def line_layout(tails: Sequence[int], prefixes: Sequence[int], together: bool) -> tuple[list[int], list[int], list[int], int]:
    """Best-fit decreasing of rows into lines as wide as the longest tail: (line, column,
    prefix slot) per row, and the number of lines. ``together=False``: one row per line.

    A line's cached prefixes may take twice as many key slots as the longest prefix or the
    line's width, whichever is more: many one-token tails with their prefixes would otherwise
    widen every line's cache (memory, and zeroing it at every packing) far beyond a padded
    layout's. (Without the factor two the bound cost ~4% of a 16-edit step; with it, nothing measurable.)
    """
    width, room = max(tails), 2 * max(max(prefixes), max(tails))
    with_room: list[list[int]] = [[] for _ in range(width)]  # lines by free columns (1 .. width - 1)
    used, slots = [], []
    line, col, slot = [0] * len(tails), [0] * len(tails), [0] * len(tails)
    for r in sorted(range(len(tails)), key=lambda r: -tails[r]):
        s, p = tails[r], prefixes[r]
        n = None
        for k in range(s, width) if together else ():
            fits = [i for i, m in enumerate(with_room[k]) if slots[m] + p <= room]
            if fits:
                n = with_room[k].pop(fits[-1])
                break
        if n is None:
            used.append(0)
            slots.append(0)
            n = len(used) - 1
        line[r], col[r], slot[r] = n, used[n], slots[n]
        used[n] += s
        slots[n] += p
        if together and 0 < width - used[n]:
            with_room[width - used[n]].append(n)
    return line, col, slot, len(used)


def pack_tails(
    splits: Sequence[SplitRows], rows: Sequence[torch.Tensor], together: bool, mask_dtype: torch.dtype, pad_id: int, nodes: Sequence[torch.Tensor] | None = None, key_cost: float = 0.0
) -> PackedTails:
    """Pack the tails of ``splits[i]``'s rows ``rows[i]`` (index tensors) into lines.

    together: rows share lines under a block mask (see :func:`takes_block_masks`); otherwise
    one row per line under a padding mask, for attention that takes no block mask.
    nodes: per split, (B_i, S_i) ids of the tail tokens: tokens with one id are computed once
        (in one column every row through it attends to), and rows whose first tokens share an
        id (a tree) are laid out in one line with their prefix cached once, or split into parts
        that fill lines better (see :func:`_tree_parts`). The caller vouches that such tokens
        are the same computation (same prefix, same tokens up to them, same edit). Only with
        ``together``; by default every token is its own.
    key_cost: one attended key's cost to a token, relative to the token's pass through a
        block's weights (``ModelParts.key_cost``): what wider lines cost when trees are split
    """
    device = splits[0].input_ids.device
    tail_t = torch.cat([split.tail_mask[idx.to(device)].sum(1) for split, idx in zip(splits, rows)])  # (R,)
    prefix_t = torch.cat([split.prefix_mask[idx.to(device)].sum(1) for split, idx in zip(splits, rows)])
    tok_row, tok_j = _spans(tail_t)  # every tail token, row by row: (T,) each
    row_start = torch.cumsum(tail_t, 0) - tail_t  # (R,) each row's first token
    of_split = torch.repeat_interleave(torch.arange(len(splits), device=device), torch.tensor([len(i) for i in rows], device=device))
    local = torch.cat([idx.to(device) for idx in rows])  # (R,) row within its split
    node = torch.arange(len(tok_row), device=device)
    if nodes is not None and together:
        ids = torch.cat([n[idx.to(device)][n[idx.to(device)] >= 0] for n, idx in zip(nodes, rows)])  # (T,) row by row, as tok_row
        _, shared = torch.unique(ids, return_inverse=True)  # (T,) compact node of each token
        if int(shared.max()) + 1 < len(shared):
            part = torch.tensor(_tree_parts(shared.split(tail_t.tolist()), prefix_t.tolist(), key_cost), dtype=torch.long, device=device)
            _, node = torch.unique(part[tok_row] * len(shared) + shared, return_inverse=True)  # a node once per part
    T, R = len(node), len(tail_t)
    first = first_of(node)  # node -> its first token
    _, unit = torch.unique(node[row_start], return_inverse=True)  # (R,) rows with one first node lay out together
    n_units = int(unit.max()) + 1
    node_unit = unit[tok_row[first]]
    order = torch.argsort(node_unit * T + first)  # nodes by unit, then in the order first met (a node after its row's earlier nodes)
    width = torch.bincount(node_unit, minlength=n_units)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order), device=device) - (torch.cumsum(width, 0) - width)[node_unit[order]]
    unit_row = first_of(unit)  # its prefix comes from this row
    line, col, slot, L = line_layout(width.tolist(), prefix_t[unit_row].tolist(), together)
    as_long = lambda xs: torch.tensor(xs, dtype=torch.long, device=device)  # noqa: E731
    line_u, col_u, slot_u = map(as_long, (line, col, slot))
    node_line, node_col = line_u[node_unit], col_u[node_unit] + rank
    W, P = int(width.max()), int((prefix_t[unit_row] + slot_u).max())
    cols = torch.full((R, int(tail_t.max())), -1, dtype=torch.long, device=device)
    cols[tok_row, tok_j] = node_col[node]
    # each column's token, from the first row through it
    input_ids = torch.full((L, W), pad_id, dtype=torch.long, device=device)
    position_ids = torch.zeros((L, W), dtype=torch.long, device=device)
    owner = torch.full((L, W), -1, dtype=torch.long, device=device)  # unit of each tail column
    f_row, f_j = tok_row[first], tok_j[first]
    places = []
    for i, split in enumerate(splits):
        mine = of_split[f_row] == i
        b, j, dst_line, dst_col = local[f_row[mine]], f_j[mine], node_line[mine], node_col[mine]
        places.append((b, j, dst_line, dst_col))
        input_ids[dst_line, dst_col] = split.input_ids[b, j]
        position_ids[dst_line, dst_col] = split.position_ids[b, j]
    owner[node_line, node_col] = node_unit
    # each unit's cached prefix, from its first row: (unit, position) -> (line, key slot)
    prefix_owner = torch.full((L, P), -1, dtype=torch.long, device=device)
    of, pt = _spans(prefix_t[unit_row])
    p_line, p_slot = line_u[of], slot_u[of] + pt
    prefix_owner[p_line, p_slot] = of
    kv = [(k.new_zeros(L, k.shape[1], P, k.shape[3]), v.new_zeros(L, v.shape[1], P, v.shape[3])) for k, v in splits[0].kv]
    for i, split in enumerate(splits):
        mine = of_split[unit_row[of]] == i
        pb, src, dst_line, dst_slot = local[unit_row[of[mine]]], pt[mine], p_line[mine], p_slot[mine]
        for (k, v), (k_out, v_out) in zip(split.kv, kv):
            at = lambda t: t.to(k.device)  # noqa: E731  (layers may sit on other devices)
            k_out[at(dst_line), :, at(dst_slot)] = k[at(pb), :, at(src)]
            v_out[at(dst_line), :, at(dst_slot)] = v[at(pb), :, at(src)]
    if together:
        # a token sees its unit's prefix and, of the tail, each token before it in any row through it
        jj, kk = torch.tril_indices(cols.shape[1], cols.shape[1], device=device)
        r, jj, kk = (x.reshape(-1) for x in torch.broadcast_tensors(torch.arange(R, device=device)[:, None], jj[None], kk[None]))
        valid = jj < tail_t[r]
        r, jj, kk = r[valid], jj[valid], kk[valid]
        tail_ok = torch.eye(W, dtype=torch.bool, device=device).repeat(L, 1, 1)  # an empty column sees itself
        tail_ok[line_u[unit[r]], cols[r, jj], cols[r, kk]] = True
        prefix_ok = (owner[:, :, None] == prefix_owner[:, None, :]) & (owner[:, :, None] >= 0)
        allowed = torch.cat([prefix_ok, tail_ok], dim=2)[:, None]
        mask = torch.zeros(allowed.shape, dtype=mask_dtype, device=device).masked_fill(~allowed, torch.finfo(mask_dtype).min)
    else:
        mask = torch.cat([prefix_owner >= 0, owner >= 0], dim=1).long()
    return PackedTails(kv=kv, input_ids=input_ids, position_ids=position_ids, mask=mask, line=line_u[unit], cols=cols, places=places)


def first_of(index: torch.Tensor) -> torch.Tensor:
    """Where each value 0 .. max of ``index`` (n,) first occurs: (max + 1,) positions."""
    n = len(index)
    return torch.full((int(index.max()) + 1,), n, device=index.device).scatter_reduce(0, index, torch.arange(n, device=index.device), "amin")


def _tree_parts(paths: Sequence[torch.Tensor], prefixes: Sequence[int], key_cost: float) -> list[int]:
    """Each row's part: rows whose first tokens are one node (a tree) share their nodes within
    a part of at most ``width`` nodes, rows taken in order, a new part begun where the next
    row would overfill the open one (the new part computes the tree's first tokens again).

    A tree's line is as wide as the widest part, and lines hold whole parts, so trees of ~60
    tokens leave lines of 67 a sixth empty; parts fill lines better. Of widths from the
    longest row to 8 times it, in steps of half of it, the one whose layout
    (:func:`line_layout`) costs least: slots computed x (1 + ``key_cost`` x keys each attends over).
    paths: per row, (S_r,) its tokens' nodes, first the tree's; prefixes: per row, cached positions
    """
    paths = [p.tolist() for p in paths]
    longest = max(len(p) for p in paths)
    best = None
    for width in range(longest, 8 * longest + 1, max(1, longest // 2)):
        part, sizes, first_prefix, open_part = [], [], [], {}  # tree -> (its open part, that part's nodes)
        for path, prefix in zip(paths, prefixes):
            n, seen = open_part.get(path[0], (-1, set()))
            if n < 0 or len(seen | set(path)) > width:
                n, seen = len(sizes), set()
                sizes.append(0)
                first_prefix.append(prefix)
            seen |= set(path)
            sizes[n] = len(seen)
            open_part[path[0]] = (n, seen)
            part.append(n)
        _, _, slot, lines = line_layout(sizes, first_prefix, True)
        W, P = max(sizes), max(p + s for p, s in zip(first_prefix, slot))
        cost = lines * W * (1 + key_cost * (P + W))
        if best is None or cost < best[0]:
            best = (cost, part)
    return best[1]


def _spans(lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For rows of ``lengths`` (R,), each element's row and its index within the row: two flat tensors."""
    of = torch.repeat_interleave(torch.arange(len(lengths), device=lengths.device), lengths)
    ends = torch.cumsum(lengths, 0)
    return of, torch.arange(len(of), device=lengths.device) - (ends - lengths)[of]
