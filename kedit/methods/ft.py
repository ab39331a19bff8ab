"""FT-L: constrained fine-tuning of MLP output projections (the ROME/MEMIT papers' baseline).

The loss is the NLL of the new object's tokens after the bare edit prompt (EasyEdit's
``prompt_last`` objective: prompt tokens are not scored), Adam on the chosen weights
only, and after each step every weight is clamped to within ``norm_constraint`` of its
original value (an L-infinity bound; the original constrained fine-tuning uses 5e-5).

The blocks below the lowest tuned layer do not change: their output is computed once and
replayed at every step (``kedit.models.hooks.replay_below``). The config
(:class:`~kedit.methods.configs.FTConfig`) lives in :mod:`kedit.methods.configs`.
"""

from __future__ import annotations

import torch

from kedit.editing.tokens import encode_rows, row_nll, subject_row
from kedit.methods.configs import FTConfig
from kedit.methods.context import EditContext
from kedit.methods.weights import Edit, weights_restored
from kedit.models.architecture import get_module, head_logits
from kedit.models.hooks import record, replay_below, run_stopping
from kedit.models.offload import OffloadError


def compute_ft(ctx: EditContext, requests, cfg: FTConfig) -> Edit:
    loaded = ctx.loaded
    model, arch = loaded.model, loaded.arch
    paths = [arch.mlp_out.format(layer) for layer in cfg.layers]
    backbone = get_module(model, arch.backbone, arch.model_type)
    enc = encode_rows(loaded.tokenizer, [subject_row(r.prompt, r.subject, r.target_new) for r in requests]).to(loaded.device)
    weights = [get_module(model, p, arch.model_type).weight for p in paths]
    for p, w in zip(paths, weights):
        if w.device.type == "meta":
            raise OffloadError(f"FT-L trains {p}.weight in place, but device_map offloads that module: give it a device in device_map, or edit other layers")
    blocks = get_module(model, arch.layers, arch.model_type)
    lowest = min(cfg.layers)
    forward = lambda: backbone(input_ids=enc.input_ids, attention_mask=enc.attention_mask)  # noqa: E731
    with torch.no_grad(), record({"hidden_in": (blocks[lowest], "input")}, stop_at=blocks[lowest]) as seen:
        run_stopping(forward)
    with weights_restored(loaded, paths), replay_below(blocks, lowest, seen["hidden_in"], loaded.block_returns_tuple):
        originals = [w.detach().clone() for w in weights]
        for w in weights:
            w.requires_grad_(True)
        opt = torch.optim.Adam(weights, lr=cfg.lr)
        losses = []
        try:
            for _ in range(cfg.num_steps):
                opt.zero_grad()
                h = forward().last_hidden_state
                logp = torch.log_softmax(head_logits(model, h[enc.pred_row, enc.pred_pos]).float(), -1)
                nll = row_nll(logp, enc.pred_target, enc.pred_row, len(requests)).mean()
                losses.append(float(nll.detach()))
                if nll < cfg.early_stop_loss:
                    break
                nll.backward()
                opt.step()
                if cfg.norm_constraint > 0:
                    with torch.no_grad():
                        for w, w0 in zip(weights, originals):
                            w.copy_(torch.clamp(w, w0 - cfg.norm_constraint, w0 + cfg.norm_constraint))
        finally:
            for w in weights:
                w.requires_grad_(False)
        changes = [(w.detach() - w0).float() for w, w0 in zip(weights, originals)]
    updates = {p: (c.T if arch.conv1d else c) for p, c in zip(paths, changes)}  # (d_out, d_in)
    return Edit(updates=updates, info={"steps": len(losses), "loss_first": losses[0], "loss_last": losses[-1]})
