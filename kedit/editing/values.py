"""Target values: the module outputs that make the model say the new objects.

For each *group* of requests one delta per site is optimised, added at the subject's
last token of every row of the group at layer ``layer``. MEMIT uses groups of one;
MEMIT-Merge groups by subject, so facts that share a key share a value and their
losses are summed. All groups are optimised together, one forward/backward per step:

- rows: every (request, context template) with its target, plus one KL row per group;
- loss of a group: sum over its facts of the fact's NLL (mean over its context rows,
  each row's NLL averaged over target tokens), plus ``kl_factor`` x KL(current || initial)
  of the next-token distribution after the subject on the KL prompt, plus
  ``v_weight_decay`` x ||delta|| / ||initial value||^2 (MEMIT's form);
- a group stops (is masked out, its delta frozen) once its NLL per fact + KL + decay
  falls below ``early_stop_loss``; MEMIT's per-edit loop breaks at the same test;
- after each Adam step each delta is clamped to ``clamp_norm_factor`` x ||initial value||.

Adam is element-wise and the rows of a batch do not interact, so each group follows the
trajectory it would follow if optimised alone (up to float rounding; see the tests).

The blocks below ``layer`` do not depend on the deltas: their output is computed once
and replayed, and so are the keys/values of every position before the subject's last
token. Each step recomputes only the rows' tails (subject's last token onwards), packed
side by side into lines as wide as the longest tail (``kedit.models.prefix.pack_tails``):
one pass of long matrix products instead of many padded short ones.
``reuse_frozen=False`` recomputes whole rows through every block at every step
instead, as the reference implementations do (their per-edit loop is
``reference_loop``; benchmarks compare against it). The forward stops at ``loss_layer``,
whose output goes through the final norm and the head at the target positions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial

import torch
from tqdm.auto import tqdm
from transformers import DynamicCache

from kedit.editing.requests import EditRequest
from kedit.editing.tokens import TextRow, encode_rows, subject_row
from kedit.models.architecture import get_module, head_logits, layer_module
from kedit.models.hooks import add_at, edit_output, gather_at, record, replay_below, run_stopping
from kedit.models.prefix import PackedTails, SplitRows, cache_argument, cache_contents, fits_window, gather_tails, pack_tails, split_rows, takes_block_masks


class NonFiniteError(ArithmeticError):
    """States or updates that overflowed (float16 does in some models' activations, e.g. Gemma's)."""

    @classmethod
    def in_model(cls, model) -> "NonFiniteError":
        dtype = next(model.parameters()).dtype
        return cls(f"the model's hidden states are not finite in {dtype} (it overflows in that dtype); use bfloat16 or float32")


@dataclass(frozen=True)
class ValueSettings:
    """The value-optimisation hyper-parameters shared by MEMIT-family methods (EasyEdit's names)."""

    v_lr: float
    v_num_grad_steps: int
    v_weight_decay: float
    clamp_norm_factor: float  # each site's delta, relative to that site's initial value
    kl_factor: float
    early_stop_loss: float
    kl_prompt: str
    loss_layer: int | None  # None: the model's last layer


@dataclass
class ValueResult:
    """Per group: ``values[s]`` (G, d) target outputs of site ``s`` = ``init[s] + deltas[s]``."""

    values: list[torch.Tensor]
    init: list[torch.Tensor]
    deltas: list[torch.Tensor]
    steps: torch.Tensor  # (G,) optimisation steps taken (forward passes)
    loss: torch.Tensor  # (G,) last NLL per fact + KL + decay
    nll: torch.Tensor  # (G,) last mean NLL per fact

    def take(self, index: Sequence[int]) -> "ValueResult":
        """The groups at ``index``, in that order."""
        on = lambda t: torch.as_tensor(list(index), dtype=torch.long, device=t.device)  # noqa: E731
        pick = lambda ts: [t[on(t)] for t in ts]  # noqa: E731
        return ValueResult(pick(self.values), pick(self.init), pick(self.deltas), self.steps[on(self.steps)], self.loss[on(self.loss)], self.nll[on(self.nll)])

    @staticmethod
    def concat(parts: Sequence["ValueResult"]) -> "ValueResult":
        """The groups of ``parts`` one after another."""
        sites = lambda name: [torch.cat(t) for t in zip(*(getattr(p, name) for p in parts))]  # noqa: E731
        return ValueResult(
            sites("values"), sites("init"), sites("deltas"), *(torch.cat([getattr(p, name) for p in parts]) for name in ("steps", "loss", "nll"))
        )


@dataclass
class _Chunk:
    """The rows of one delta-free first pass, cut at the subject's last token (see ``kedit.models.prefix``).

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


@dataclass
class _Pass:
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


def _passes(chunks: Sequence[_Chunk], active: torch.Tensor, together: bool, tokens_per_pass: int, mask_dtype, pad_id: int) -> list[_Pass]:
    """The rows of the ``active`` groups, packed into passes.

    together: rows of every chunk share lines under a block mask, longest tails first, each
    pass at most ``tokens_per_pass`` tail tokens; otherwise one pass per chunk, one row per line.
    """
    picked = [active[c.group].nonzero().squeeze(1) for c in chunks]
    if together:
        rows = [(i, b, n) for i, (c, idx) in enumerate(zip(chunks, picked)) for b, n in zip(idx.tolist(), c.split.tail_mask[idx].sum(1).tolist())]
        rows.sort(key=lambda r: -r[2])
        parts, size = [], tokens_per_pass
        for i, b, n in rows:
            if size + n > tokens_per_pass:
                parts.append([[] for _ in chunks])
                size = 0
            parts[-1][i].append(b)
            size += n
        selections = [[torch.tensor(bs, dtype=torch.long, device=active.device) for bs in part] for part in parts]
    else:
        selections = [[idx if j == i else idx[:0] for j, idx in enumerate(picked)] for i, idx in enumerate(picked) if len(idx)]
    out = []
    for sel in selections:
        used = [(c, idx) for c, idx in zip(chunks, sel) if len(idx)]
        tails = pack_tails([c.split for c, _ in used], [idx for _, idx in used], together, mask_dtype, pad_id)
        pred_row, pred_col, pred_target, start = [], [], [], 0
        for c, idx in used:
            local = torch.full((len(c.group),), -1, dtype=torch.long, device=idx.device)
            local[idx] = torch.arange(start, start + len(idx), device=idx.device)
            start += len(idx)
            keep = local[c.pred_row] >= 0
            pred_row.append(local[c.pred_row[keep]])
            pred_col.append(c.pred_pos[keep])
            pred_target.append(c.pred_target[keep])
        pred_row = torch.cat(pred_row)
        cat = lambda name: torch.cat([getattr(c, name)[idx] for c, idx in used])  # noqa: E731
        out.append(
            _Pass(
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
        )
    return out


def _build_rows(requests, groups, templates, kl_prompt):
    """Rows of all groups and, per row, (group, NLL weight, is KL row, is init row).

    A KL row ends at the subject: the KL term is read at the subject's last token, which
    by causality does not see the rest of the KL prompt.
    """
    rows, info = [], []
    for g, members in enumerate(groups):
        for n, i in enumerate(members):
            r = requests[i]
            for k, t in enumerate(templates):
                rows.append(subject_row(t.format(r.prompt), r.subject, r.target_new))
                info.append((g, 1.0 / len(templates), False, n == 0 and k == 0))
        kl = subject_row(kl_prompt, requests[members[0]].subject)
        rows.append(TextRow(prefix=kl.prefix[: kl.subject[1]], subject=kl.subject))
        info.append((g, 0.0, True, False))
    return rows, info


# What one more forward/backward pass costs beyond its tokens (hooks, kernel launches), in
# padded tail tokens; measured on CPU, where a pass of ~50 tokens is overhead-bound.
PASS_OVERHEAD_TOKENS = 48


def tail_length(tok, row) -> int:
    """Tokens of ``row`` from the subject's last token to its end: what a pass recomputes."""
    return len(tok(row.prefix + row.target)["input_ids"]) - len(tok(row.prefix[: row.subject[1]])["input_ids"]) + 1


def _batches(tok, rows, tokens_per_pass: int) -> list[list[int]]:
    """Row indices cut into passes that minimise the padded tail tokens computed.

    A row's tail runs from the subject's last token to its end; a pass pads every row to
    its longest tail. Rows sorted by tail length are split into contiguous passes by
    dynamic programming over cost = rows x longest tail + ``PASS_OVERHEAD_TOKENS``, each
    pass holding at most ``tokens_per_pass`` padded tokens (a longer row goes alone).
    """
    tails = [tail_length(tok, r) for r in rows]
    order = sorted(range(len(rows)), key=lambda i: tails[i])
    length = [tails[i] for i in order]
    best = [0.0] + [float("inf")] * len(order)  # best[j]: cheapest cut of order[:j]
    start = [0] * (len(order) + 1)
    for j in range(1, len(order) + 1):
        for i in range(j - 1, -1, -1):  # last pass = order[i:j], padded to length[j - 1]
            if i < j - 1 and (j - i) * length[j - 1] > tokens_per_pass:
                break
            cost = best[i] + (j - i) * length[j - 1] + PASS_OVERHEAD_TOKENS
            if cost < best[j]:
                best[j], start[j] = cost, i
    parts, j = [], len(order)
    while j > 0:
        parts.append(order[start[j] : j])
        j = start[j]
    return parts[::-1]


def _next_token_logp(loaded, final_norm, h: torch.Tensor) -> torch.Tensor:
    """(n, d) states of the loss layer -> (n, vocab) float32 log-probabilities."""
    return torch.log_softmax(head_logits(loaded.model, final_norm(h)).float(), -1).to(loaded.device)


def optimize_values(
    loaded,
    requests: Sequence[EditRequest],
    groups: Sequence[Sequence[int]],
    layer: int,
    templates: Sequence[str],
    settings: ValueSettings,
    sites: Sequence[str] | None = None,
    tokens_per_pass: int = 2048,
    progress: bool = False,
    reuse_frozen: bool = True,
) -> ValueResult:
    """Optimise one delta per (group, site) at ``layer``.

    sites: module path templates whose outputs get the delta (default: the block, i.e. the residual stream)
    reuse_frozen: replay what does not depend on the deltas (see the module docstring)
    returns: per site, (G, d_site) values, initial values and deltas
    """
    model, arch, device = loaded.model, loaded.arch, loaded.device
    sites = list(sites or [arch.block])
    loss_layer = loaded.n_layers - 1 if settings.loss_layer is None else settings.loss_layer
    if loss_layer < layer:
        raise ValueError(f"loss_layer {loss_layer} is below the layer {layer} whose output is optimised")
    site_modules = [layer_module(model, arch, s, layer) for s in sites]
    blocks = get_module(model, arch.layers, arch.model_type)
    loss_block = blocks[loss_layer]
    final_norm = get_module(model, arch.final_norm, arch.model_type)
    G = len(groups)
    rows, info = _build_rows(requests, groups, templates, settings.kl_prompt)

    # First pass, no delta, per batch of rows: read the initial site outputs (each group's
    # first fact, bare prompt) and the initial KL distributions; keep the keys/values of
    # every position before the subject's last token and the input of block `layer` on
    # the tail: neither depends on the deltas.
    init: list[torch.Tensor | None] = [None] * len(sites)
    kl_init: torch.Tensor | None = None
    chunks: list[_Chunk] = []
    pad_id = loaded.tokenizer.pad_token_id or 0
    dev = lambda xs, dt: torch.tensor(xs, dtype=dt, device=device)  # noqa: E731
    with torch.no_grad():
        for idx in _batches(loaded.tokenizer, rows, tokens_per_pass):
            enc = encode_rows(loaded.tokenizer, [rows[i] for i in idx]).to(device)
            group, weight, is_kl, is_init = (dev(x, dt) for x, dt in zip(zip(*(info[i] for i in idx)), (torch.long, torch.float32, torch.bool, torch.bool)))
            cached = reuse_frozen and fits_window(model, enc.input_ids.shape[1])
            cache = DynamicCache()
            reads = {"hidden_in": (blocks[layer], "input"), "h": (loss_block, "output")}
            reads |= {f"site{s}": (m, "output") for s, m in enumerate(site_modules)}
            with record(reads, stop_at=loss_block) as seen:
                kwargs = {cache_argument(model): cache, "use_cache": True} if cached else {}
                run_stopping(lambda: model(input_ids=enc.input_ids, attention_mask=enc.attention_mask, **kwargs))
            at_subject = torch.arange(len(idx), device=device), enc.subject_pos
            for s in range(len(sites)):
                out = gather_at(seen[f"site{s}"], *at_subject, device).float()
                if init[s] is None:
                    init[s] = torch.zeros(G, out.shape[-1], device=device)
                init[s][group[is_init]] = out[is_init]
            if is_kl.any():
                logp = _next_token_logp(loaded, final_norm, gather_at(seen["h"], *at_subject, device)[is_kl])
                if kl_init is None:
                    kl_init = torch.zeros(G, logp.shape[-1], device=device)
                kl_init[group[is_kl]] = logp
            start = enc.subject_pos if cached else torch.zeros_like(enc.subject_pos)
            lengths = enc.attention_mask.sum(1)
            chunks.append(
                _Chunk(
                    split=split_rows(enc.input_ids, enc.attention_mask, start, cache_contents(cache) if cached else [], pad_id),
                    hidden_in=gather_tails(seen["hidden_in"], start, lengths),
                    subject=enc.subject_pos - start,
                    pred_row=enc.pred_row,
                    pred_pos=enc.pred_pos - start[enc.pred_row],
                    pred_target=enc.pred_target,
                    group=group,
                    weight=weight,
                    is_kl=is_kl,
                )
            )
    if not all(torch.isfinite(v).all() for v in init) or (kl_init is not None and not torch.isfinite(kl_init).all()):
        raise NonFiniteError.in_model(model)
    init_norm = [v.norm(dim=-1) for v in init]  # (G,) each

    deltas = [torch.zeros_like(v, requires_grad=True) for v in init]
    opt = torch.optim.Adam(deltas, lr=settings.v_lr)
    facts = torch.tensor([len(m) for m in groups], dtype=torch.float32, device=device)
    active = torch.ones(G, dtype=torch.bool, device=device)
    steps = torch.zeros(G, dtype=torch.long, device=device)
    last_loss = torch.zeros(G, device=device)
    last_nll = torch.zeros(G, device=device)
    together, mask_dtype = takes_block_masks(model), next(model.parameters()).dtype
    passes: list[_Pass] = []
    packed_for = None
    bar = tqdm(total=settings.v_num_grad_steps, desc=f"values of {G} group(s) at layer {layer}", unit="step", disable=not progress, leave=False)
    for it in range(settings.v_num_grad_steps):
        opt.zero_grad(set_to_none=False)
        nll = torch.zeros(G, device=device)  # summed over each group's facts
        kl = torch.zeros(G, device=device)
        if packed_for is None or not torch.equal(packed_for, active):  # the active rows changed: pack them anew
            passes, packed_for = _passes(chunks, active, together, tokens_per_pass, mask_dtype, pad_id), active.clone()
        for p in passes:
            with ExitStack() as stack:
                for s, m in enumerate(site_modules):
                    stack.enter_context(edit_output(m, add_at(p.tails.line, p.subject, deltas[s][p.group])))
                if reuse_frozen:
                    stack.enter_context(replay_below(blocks, layer, p.hidden_in, loaded.block_returns_tuple))
                seen = stack.enter_context(record({"h": (loss_block, "output")}, stop_at=loss_block))
                kwargs = p.tails.forward_kwargs(model)
                run_stopping(lambda: model(**kwargs))
            h = seen["h"]  # (L, W, d)
            # One head call for the target positions and the KL rows' subject positions (the
            # head's weight is the largest matrix a step reads). NLL of the target tokens,
            # averaged per row, weighted into the row's group; KL per group.
            R, N = len(p.group), len(p.pred_row)
            kl_rows = p.is_kl.nonzero().squeeze(1)
            lines = torch.cat([p.tails.line[p.pred_row], p.tails.line[kl_rows]])
            logp = _next_token_logp(loaded, final_norm, gather_at(h, lines, torch.cat([p.pred_col, p.subject[kl_rows]]), device))
            logp_nll, logp_kl = logp.split([N, len(kl_rows)])  # split, not slices: one dense gradient, not two
            tok_logp = logp_nll.gather(1, p.pred_target[:, None]).squeeze(1)
            n_tok = torch.bincount(p.pred_row, minlength=R).clamp(min=1)
            row_nll = -torch.zeros(R, device=device).index_add(0, p.pred_row, tok_logp) / n_tok
            pass_nll = torch.zeros(G, device=device).index_add(0, p.group, row_nll * p.weight)
            kl_of_row = (logp_kl.exp() * (logp_kl - kl_init[p.group[kl_rows]])).sum(-1)
            pass_kl = torch.zeros(G, device=device).index_add(0, p.group[kl_rows], kl_of_row)
            (pass_nll.sum() + settings.kl_factor * pass_kl.sum()).backward()
            nll += pass_nll.detach()
            kl += pass_kl.detach()
        decay = sum(delta.norm(dim=-1) / init_norm[s] ** 2 for s, delta in enumerate(deltas))  # (G,)
        (settings.v_weight_decay * decay[active]).sum().backward()
        loss = nll / facts + settings.kl_factor * kl + settings.v_weight_decay * decay.detach()
        steps[active] += 1
        last_loss = torch.where(active, loss, last_loss)
        last_nll = torch.where(active, nll / facts, last_nll)
        active &= loss >= settings.early_stop_loss
        bar.update()
        bar.set_postfix(active=int(active.sum()), loss=f"{float(last_loss.mean()):.3f}")
        if it == settings.v_num_grad_steps - 1 or not active.any():
            break
        frozen = [delta.detach().clone() for delta in deltas]
        opt.step()
        with torch.no_grad():
            for s, delta in enumerate(deltas):
                delta[~active] = frozen[s][~active]  # stopped groups keep their delta
                limit = settings.clamp_norm_factor * init_norm[s]
                norm = delta.norm(dim=-1)
                delta.mul_(torch.where(norm > limit, limit / norm.clamp(min=1e-12), torch.ones_like(norm))[:, None])
    bar.close()
    final = [delta.detach() for delta in deltas]
    return ValueResult(
        values=[i + f for i, f in zip(init, final)], init=init, deltas=final, steps=steps.cpu(), loss=last_loss.cpu(), nll=last_nll.cpu()
    )


def optimize_values_one_by_one(
    loaded, requests, groups, layer, templates, settings, sites=None, tokens_per_pass: int = 2048, progress: bool = False, reuse_frozen: bool = True
) -> ValueResult:
    """The reference implementations' loop: each group optimised alone, one after another;
    with ``reuse_frozen=False`` also at their cost per step (whole prompts through every block).

    Same results as :func:`optimize_values` up to float rounding (see the tests); kept for
    benchmarks and for checking that equivalence.
    """
    parts = [
        optimize_values(loaded, [requests[i] for i in members], [list(range(len(members)))], layer, templates, settings, sites, tokens_per_pass, reuse_frozen=reuse_frozen)
        for members in tqdm(groups, desc="values, one group at a time", unit="group", disable=not progress, leave=False)
    ]
    return ValueResult.concat(parts)


VALUE_OPTIMISERS = {
    "batched": optimize_values,
    "one_by_one": optimize_values_one_by_one,
    "reference_loop": partial(optimize_values_one_by_one, reuse_frozen=False),
}
