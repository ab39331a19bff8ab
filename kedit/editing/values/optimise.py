"""The optimisation itself: Adam over one delta per (group, site), early stop, clamp."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack

import torch
from tqdm.auto import tqdm

from kedit.editing.requests import EditRequest
from kedit.editing.values.first_pass import first_pass
from kedit.editing.values.loss import group_loss, pass_loss, weight_decay
from kedit.editing.values.model_parts import ModelParts
from kedit.editing.values.passes import Pass, pack_passes
from kedit.editing.values.rows import build_rows
from kedit.editing.values.settings import ValueResult, ValueSettings
from kedit.models.hooks import add_at, edit_output, record, replay_below, run_stopping
from kedit.models.prefix import takes_block_masks

# What a group's early stop compares with ``early_stop_loss``, from its (G,) loss and NLL per fact.
STOP_MEASURES = {
    "loss": lambda loss, nll_per_fact: loss,  # NLL per fact + KL + decay: MEMIT's test
    "nll": lambda loss, nll_per_fact: nll_per_fact,  # the facts alone; KL and decay still shape every step
}


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

    groups: indices into ``requests``; the facts of a group share one delta and sum their losses
    sites: module path templates whose outputs get the delta (default: the block, i.e. the residual stream)
    reuse_frozen: replay what does not depend on the deltas (see :mod:`kedit.editing.values`)
    returns: per site, (G, d_site) values, initial values and deltas
    """
    parts = ModelParts.find(loaded, layer, list(sites or [loaded.arch.block]), settings.loss_layer)
    G, device = len(groups), parts.device
    rows, roles = build_rows(requests, groups, templates, settings.kl_prompt)
    start = first_pass(loaded, parts, rows, roles, G, tokens_per_pass, reuse_frozen)
    init_norm = [v.norm(dim=-1) for v in start.init]  # (G,) each

    deltas = [torch.zeros_like(v, requires_grad=True) for v in start.init]
    opt = torch.optim.Adam(deltas, lr=settings.v_lr)
    facts = torch.tensor([len(m) for m in groups], dtype=torch.float32, device=device)
    active = torch.ones(G, dtype=torch.bool, device=device)
    steps = torch.zeros(G, dtype=torch.long, device=device)
    last_loss = torch.zeros(G, device=device)
    last_nll = torch.zeros(G, device=device)
    stop_measure = STOP_MEASURES[settings.early_stop_on]
    pack = {"together": takes_block_masks(parts.model), "tokens_per_pass": tokens_per_pass, "mask_dtype": next(parts.model.parameters()).dtype, "pad_id": loaded.tokenizer.pad_token_id or 0, "key_cost": parts.key_cost()}
    passes: list[Pass] = []
    packed_for = None
    bar = tqdm(total=settings.v_num_grad_steps, desc=f"values of {G} group(s) at layer {layer}", unit="step", disable=not progress, leave=False)
    for it in range(settings.v_num_grad_steps):
        opt.zero_grad(set_to_none=False)
        if packed_for is None or not torch.equal(packed_for, active):  # the active rows changed: pack them anew
            passes, packed_for = pack_passes(start.chunks, active, **pack), active.clone()
        nll, kl = _forward_backward(parts, passes, deltas, start.kl_init, settings.kl_factor, reuse_frozen, G)
        decay = weight_decay(deltas, init_norm)  # (G,)
        (settings.v_weight_decay * decay[active]).sum().backward()
        loss = group_loss(nll, kl, decay.detach(), facts, settings)
        steps[active] += 1
        last_loss = torch.where(active, loss, last_loss)
        nll_per_fact = nll / facts
        last_nll = torch.where(active, nll_per_fact, last_nll)
        active &= stop_measure(loss, nll_per_fact) >= settings.early_stop_loss  # a stopped group is masked out, its delta frozen
        bar.update()
        bar.set_postfix(active=int(active.sum()), loss=f"{float(last_loss.mean()):.3f}")
        if it == settings.v_num_grad_steps - 1 or not active.any():
            break
        _adam_step(opt, deltas, active, init_norm, settings.clamp_norm_factor)
    bar.close()
    final = [delta.detach() for delta in deltas]
    return ValueResult(
        values=[i + f for i, f in zip(start.init, final)], init=start.init, deltas=final, steps=steps.cpu(), loss=last_loss.cpu(), nll=last_nll.cpu()
    )


def _forward_backward(parts: ModelParts, passes: Sequence[Pass], deltas, kl_init, kl_factor: float, reuse_frozen: bool, n_groups: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward and backward of every pass with the deltas added (the gradients accumulate in ``deltas``).

    deltas: per site (G, d_site); returns (G,) NLL summed over each group's facts and (G,) KL, detached
    """
    nll = torch.zeros(n_groups, device=parts.device)
    kl = torch.zeros(n_groups, device=parts.device)
    for p in passes:
        pass_nll, pass_kl = pass_loss(parts, p, _loss_layer_output(parts, p, deltas, reuse_frozen), kl_init, n_groups)
        (pass_nll.sum() + kl_factor * pass_kl.sum()).backward()
        nll += pass_nll.detach()
        kl += pass_kl.detach()
    return nll, kl


def _loss_layer_output(parts: ModelParts, p: Pass, deltas, reuse_frozen: bool) -> torch.Tensor:
    """(L, W, d) output of the loss block on the pass's lines, each row's group's delta added
    to every site's output at the row's subject (once where rows share it); the blocks below
    ``layer`` replayed if ``reuse_frozen``."""
    with ExitStack() as stack:
        for s, m in enumerate(parts.sites):
            # index_select, not deltas[s][p.group]: the backward of advanced indexing with repeated
            # indices (a group's many rows) adds in thread order, which varies from run to run.
            stack.enter_context(edit_output(m, add_at(p.edit_line, p.edit_col, deltas[s].index_select(0, p.edit_group))))
        if reuse_frozen:
            stack.enter_context(replay_below(parts.blocks, parts.layer, p.hidden_in, parts.block_returns_tuple))
        seen = stack.enter_context(record({"h": (parts.loss_block, "output")}, stop_at=parts.loss_block))
        kwargs = p.tails.forward_kwargs(parts.model)
        run_stopping(lambda: parts.model(**kwargs))
    return seen["h"]


def _adam_step(opt: torch.optim.Adam, deltas, active: torch.Tensor, init_norm, clamp_norm_factor: float) -> None:
    """One Adam step on the deltas of the ``active`` (G,) groups (stopped groups keep theirs),
    then each site's delta clamped to ``clamp_norm_factor`` x that site's ||initial value||."""
    frozen = [delta.detach().clone() for delta in deltas]
    opt.step()
    with torch.no_grad():
        for s, delta in enumerate(deltas):
            delta[~active] = frozen[s][~active]
            limit = clamp_norm_factor * init_norm[s]
            norm = delta.norm(dim=-1)
            delta.mul_(torch.where(norm > limit, limit / norm.clamp(min=1e-12), torch.ones_like(norm))[:, None])
