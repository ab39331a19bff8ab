"""kedit.methods.alphaedit: the update leaves the preserved keys' outputs alone."""

from __future__ import annotations

import torch

from kedit.editing.keys import compute_keys
from kedit.editing.requests import make_requests
from kedit.methods import EditContext, StatsSettings, get_method
from kedit.models.architecture import layer_module
from kedit.models.hooks import record
from tests.tiny import METHOD_HP


def test_alphaedit_leaves_preserved_keys_outputs_unchanged(tiny, raw_requests, corpus):
    """Keys of the statistics corpus span the preserved space: the update maps them to ~0
    (relative to what it does to the edited keys). Two windows of 16 tokens leave most of
    the 64 key dimensions free."""
    from kedit.stats.moments import windows

    reqs = make_requests(raw_requests)
    ctx = EditContext(tiny, StatsSettings(corpus=corpus, n_samples=2, max_length=16), progress=False)
    moments = ctx.second_moments([2])
    threshold = float(torch.linalg.eigvalsh(moments[2].double()).max()) * 1e-6
    hp = METHOD_HP["AlphaEdit"] | {"layers": [2], "nullspace_threshold": threshold}
    edit = get_method("AlphaEdit").compute(ctx, reqs, get_method("AlphaEdit").parse(hp))
    (update,) = edit.updates.values()  # (d_out, d_in)
    ids = torch.tensor([w for w in windows(tiny.tokenizer, corpus, 16)][:2])
    with record({"k": (layer_module(tiny.model, tiny.arch, tiny.arch.mlp_out, 2), "input")}) as seen:
        tiny.model(input_ids=ids)
    preserved = seen["k"].reshape(-1, update.shape[1]).double()
    edited = compute_keys(tiny, reqs, 2, ctx.templates(hp["context_tokens"])).double()
    on_preserved = (preserved @ update.double().T).norm(dim=1).max()
    on_edited = (edited @ update.double().T).norm(dim=1).mean()
    # the projector keeps what lies below its threshold (1e-6 of the top eigenvalue): measured
    # ratio at most 3.0e-5 (olmo2); with nothing projected (threshold above every eigenvalue)
    # it is 1.4 to 2.3 (llama, gpt2, olmo2)
    assert on_edited > 0 and on_preserved < 1e-3 * on_edited
