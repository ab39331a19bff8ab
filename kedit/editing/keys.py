"""Keys and current values at the subject's last token.

A key of layer ``l`` is the input of that layer's MLP output projection at the last
token of the subject, averaged over the context templates; every method reads keys
through :func:`compute_keys`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch

from kedit.editing.requests import EditRequest
from kedit.editing.tokens import encode_rows, subject_row
from kedit.models.architecture import layer_module
from kedit.models.hooks import gather_at, record, run_stopping

ROWS_PER_PASS = 256


@torch.no_grad()
def subject_states(
    loaded,
    requests: Sequence[EditRequest],
    templates: Sequence[str],
    reads: dict[str, tuple[str, int, str]],
) -> dict[str, torch.Tensor]:
    """Read module inputs/outputs at the subject's last token of every (request, template) row.

    reads: name -> (path template, layer, "input" | "output"), e.g. ``("model.layers.{}.mlp.down_proj", 4, "input")``
    returns: name -> (n_requests, n_templates, d) float32
    """
    model, arch = loaded.model, loaded.arch
    modules = {name: (layer_module(model, arch, tmpl, layer), what) for name, (tmpl, layer, what) in reads.items()}
    # stop once the block of the deepest layer read is done (its submodules finish before it)
    deepest = layer_module(model, arch, arch.block, max(layer for _, layer, _ in reads.values()))
    # A template holds "{}" for the prompt, the prompt holds "{}" for the subject.
    rows = [subject_row(t.format(r.prompt), r.subject) for r in requests for t in templates]
    enc = encode_rows(loaded.tokenizer, rows)
    # causal attention: the tokens after the subject's last position change no state read here,
    # so a pass runs up to its rows' longest subject; rows of similar length share a pass
    order = torch.argsort(enc.subject_pos, stable=True)
    out: dict[str, list[torch.Tensor]] = {name: [] for name in reads}
    for idx in order.split(ROWS_PER_PASS):
        pos = enc.subject_pos[idx]
        width = int(pos.max()) + 1
        ids, mask = enc.input_ids[idx, :width].to(loaded.device), enc.attention_mask[idx, :width].to(loaded.device)
        with record(modules, stop_at=deepest) as seen:
            run_stopping(partial(model, input_ids=ids, attention_mask=mask))
        for name, t in seen.items():
            out[name].append(gather_at(t, torch.arange(len(idx)), pos, loaded.device).float())
    back = torch.argsort(order)  # each row's place in the sorted order
    n, k = len(requests), len(templates)
    return {name: torch.cat(parts)[back.to(loaded.device)].view(n, k, -1) for name, parts in out.items()}


def compute_keys(loaded, requests: Sequence[EditRequest], layer: int, templates: Sequence[str]) -> torch.Tensor:
    """Keys at ``layer``: (n_requests, d_in), the MLP-output-projection input averaged over templates."""
    states = subject_states(loaded, requests, templates, {"k": (loaded.arch.mlp_out, layer, "input")})
    return states["k"].mean(dim=1)
