"""The locate-and-edit procedure MEMIT, MEMIT-Merge, PMET and AlphaEdit share.

1. group the requests (``group_by``) and optimise one target value per group at the
   last edited layer ``L`` (:func:`kedit.editing.values.optimize_values`); MEMIT's value
   lives in the residual stream (the output of block ``L``);
2. for each edited layer ``l`` in ascending order, with the updates of lower layers
   already in place: read the keys at ``l`` and the current value at ``L``, take how far
   the residual stream must move to reach the value (``gap``; MEMIT's: ``value - current``),
   give layer ``l`` its share of it (``spread``), turn that into a change of layer ``l``'s
   MLP output (:func:`kedit.methods.post_norm.mlp_change`), solve for the layer's update
   (``solve``) and add it;
3. restore the model and return the updates.

A method supplies its config (a :class:`~kedit.methods.configs.LocateEditConfig` subclass,
which names the value ``sites`` if they differ from MEMIT's and builds step 1's job), a
``solve`` and, where they differ from MEMIT's, a ``spread`` and a ``gap``. Values come from the context (:meth:`EditContext.values`), which
shares them between methods that ask for the same ones.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from kedit.editing.keys import subject_states
from kedit.editing.requests import EditRequest
from kedit.methods.configs import LocateEditConfig
from kedit.methods.context import EditContext
from kedit.methods.post_norm import mlp_change
from kedit.methods.weights import Edit, add_update, weights_restored


def memit_spread(i: int, n_layers: int) -> float:
    """MEMIT's share of the residual for the ``i``-th of ``n_layers`` edited layers: 1 / (layers left)."""
    return 1.0 / (n_layers - i)


def residual_gap(loaded, layer: int, current: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """MEMIT's gap (n, d): the value lives in the residual stream, so the stream moves by ``value - current``."""
    return value - current


Gap = Callable[[object, int, torch.Tensor, torch.Tensor], torch.Tensor]  # (loaded, layer, current (n, d), value (n, d)) -> stream move (n, d)
Solve = Callable[[int, torch.Tensor, torch.Tensor, "torch.Tensor | None"], torch.Tensor]
# (layer, keys (n, d_in), residuals (n, d_out), kept (d_in, d_in) or None) -> (d_out, d_in); ``kept``:
# Σ k kᵀ of keys the update must leave unchanged (see kept_moments).


def kept_moments(ctx: EditContext, requests: list[EditRequest], cfg: LocateEditConfig, templates: list[str]) -> dict[int, torch.Tensor]:
    """Per edited layer, Σ k kᵀ (d_in, d_in) of the keys the solve keeps besides the corpus's:
    edits applied before (sequential editing, ``ctx.earlier``) and other subjects (``preserve_subjects``)."""
    kept = dict(ctx.earlier)
    if cfg.preserve_subjects:
        for layer, k in ctx.other_subject_keys(requests, cfg.layers, templates, cfg.preserve_subjects).items():
            m = cfg.preserve_weight * (k.double().T @ k.double())  # μ K_p K_pᵀ (d_in, d_in)
            kept[layer] = kept[layer] + m if layer in kept else m
    return kept


def locate_and_edit(
    ctx: EditContext,
    requests: list[EditRequest],
    cfg: LocateEditConfig,
    solve: Solve,
    spread: Callable[[int, int], float] = memit_spread,
    gap: Gap = residual_gap,
) -> Edit:
    """Run steps 1-3 above."""
    loaded = ctx.loaded
    arch = loaded.arch
    if cfg.layers[-1] >= loaded.n_layers:
        raise ValueError(f"layer {cfg.layers[-1]} is outside the model ({loaded.n_layers} layers)")
    job = cfg.value_job(ctx, requests)
    sites, templates = job.sites, list(job.templates)
    group_of = torch.empty(len(requests), dtype=torch.long)
    for g, members in enumerate(job.groups):
        group_of[list(members)] = g
    last = cfg.layers[-1]
    paths = [arch.mlp_out.format(layer) for layer in cfg.layers]
    updates: dict[str, torch.Tensor] = {}
    layer_keys: dict[int, torch.Tensor] = {}
    residual_norms = []
    kept = kept_moments(ctx, requests, cfg, templates)
    with weights_restored(loaded, paths):  # snapshots first: a weight that cannot be edited is named before any work
        shared = ctx.values(job)
        values = shared.values
        target = values.values[-1][group_of.to(values.values[-1].device)]  # (n, d_out)
        for i, layer in enumerate(cfg.layers):
            reads = {"k": (arch.mlp_out, layer, "input"), "z": (sites[-1], last, "output"), "y": (arch.mlp_out, layer, "output")}
            states = subject_states(loaded, requests, templates, reads)
            keys = states["k"].mean(dim=1)  # (n, d_in)
            current = states["z"][:, 0]  # (n, d), bare prompt
            share = gap(loaded, last, current, target) * spread(i, len(cfg.layers))  # (n, d) move of the residual stream asked of this layer
            residual = mlp_change(loaded, layer, states["y"][:, 0], share)
            residual_norms.append(float(share.norm(dim=1).mean()))
            update = solve(layer, keys, residual, kept.get(layer)).float()
            add_update(loaded, paths[i], update)
            updates[paths[i]] = update
            layer_keys[layer] = keys
    info = {
        "groups": len(job.groups),
        "values_s": shared.seconds,  # this method's share where the values were optimised with other methods'
        "values_ahead_s": shared.seconds if shared.ahead else 0.0,  # part of it spent before the method ran
        "value_steps_mean": float(values.steps.float().mean()),
        "value_loss_mean": float(values.loss.mean()),
        "value_nll_mean": float(values.nll.mean()),
        "residual_norm_by_layer": residual_norms,
    }
    return Edit(updates=updates, info=info, keys=layer_keys)
