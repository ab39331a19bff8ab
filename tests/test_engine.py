"""The engine's invariants, run on a tiny random model of every supported architecture."""

from __future__ import annotations

import pytest
import torch

from kedit.editing.keys import compute_keys
from kedit.editing.requests import group_indices, make_requests
from kedit.editing.values import optimize_values
from kedit.methods import EditContext, StatsSettings, apply_edit, get_method, restore
from kedit.models.architecture import get_module, layer_module
from kedit.models.hooks import record, replay_below, run_stopping
from kedit.models.load import weights_fingerprint
from tests.tiny import METHOD_HP, TINY_HP, block_outputs, ctx_for, mlp_outputs, tensor_bytes


def test_every_registered_method_is_tested():
    from kedit.methods import METHODS

    assert set(METHODS) == set(METHOD_HP)


def test_keys_have_one_row_per_request_and_the_projection_input_width(tiny, raw_requests):
    reqs = make_requests(raw_requests)
    d_in = layer_module(tiny.model, tiny.arch, tiny.arch.mlp_out, 1)
    d_in = d_in.weight.shape[0] if tiny.arch.conv1d else d_in.weight.shape[1]
    keys = compute_keys(tiny, reqs, 1, ["{}", "Hello there. {}"])
    assert keys.shape == (len(reqs), d_in)
    # The subject comes first in both John Smith prompts: causal attention gives them one key.
    torch.testing.assert_close(keys[1], keys[2])
    assert not torch.allclose(keys[0], keys[1])


def test_replaying_the_lower_blocks_gives_the_same_forward(tiny):
    ids = tiny.tokenizer(["John Smith's birthplace is Tokyo", "Alice Brown is"], padding=True, return_tensors="pt")
    blocks = get_module(tiny.model, tiny.arch.layers)
    top = blocks[len(blocks) - 1]
    with record({"in": (blocks[2], "input"), "out": (top, "output")}) as full:
        tiny.model(**ids)
    with replay_below(blocks, 2, full["in"], tiny.block_returns_tuple), record({"out": (top, "output")}, stop_at=top) as replayed:
        run_stopping(lambda: tiny.model(**ids))
    torch.testing.assert_close(replayed["out"], full["out"], rtol=0, atol=0)


@pytest.mark.parametrize("group_by", [None, "subject"])
def test_batched_value_optimisation_matches_one_edit_at_a_time(tiny, raw_requests, group_by):
    """Adam is element-wise and rows do not interact, so each group follows its solo trajectory.

    Tolerance: float32 rounding differs between a batched and a single-row matmul; after
    the optimisation it stays below 1e-4 relative to the value's norm.
    """
    from kedit.editing.values import optimize_values_one_by_one

    reqs = make_requests(raw_requests)
    cfg = get_method("MEMIT").parse(TINY_HP | {"v_num_grad_steps": 8})
    templates = ctx_for(tiny, None).templates(cfg.context_tokens)
    groups = group_indices(reqs, group_by)
    together = optimize_values(tiny, reqs, groups, 2, templates, cfg.value_settings())
    alone = optimize_values_one_by_one(tiny, reqs, groups, 2, templates, cfg.value_settings())
    assert together.steps.tolist() == alone.steps.tolist()
    scale = float(alone.values[0].norm(dim=1).max())
    torch.testing.assert_close(together.values[0], alone.values[0], rtol=0, atol=1e-4 * scale)


def test_the_reference_loop_recomputes_the_frozen_blocks_at_every_step_and_agrees(tiny, raw_requests):
    """``reference_loop`` runs block 0's MLP at every step (kedit's optimisers only in their
    first pass) and reaches the same values as the batched optimiser."""
    from kedit.editing.values import VALUE_OPTIMISERS

    reqs = make_requests(raw_requests)
    cfg = get_method("MEMIT").parse(TINY_HP | {"v_num_grad_steps": 5, "early_stop_loss": 0.0})
    templates = ctx_for(tiny, None).templates(cfg.context_tokens)
    groups = group_indices(reqs, None)
    first_mlp = layer_module(tiny.model, tiny.arch, tiny.arch.mlp_out, 0)
    runs = {}
    for name in ("one_by_one", "reference_loop", "batched"):
        calls = []
        handle = first_mlp.register_forward_hook(lambda *_: calls.append(1))
        try:
            res = VALUE_OPTIMISERS[name](tiny, reqs, groups, 2, templates, cfg.value_settings())
        finally:
            handle.remove()
        runs[name] = (res, len(calls))
    first_passes = runs["one_by_one"][1]  # per edit, its first pass only: then replayed
    assert first_passes >= len(groups)
    assert runs["reference_loop"][1] == first_passes * (1 + 5)  # and again at each of the 5 steps
    batched, ref = runs["batched"][0], runs["reference_loop"][0]
    assert batched.steps.tolist() == ref.steps.tolist()
    scale = float(ref.values[0].norm(dim=1).max())
    torch.testing.assert_close(batched.values[0], ref.values[0], rtol=0, atol=1e-4 * scale)


def test_merged_groups_share_one_value_and_sum_their_losses(tiny, raw_requests):
    reqs = make_requests(raw_requests)
    groups = group_indices(reqs, "subject")
    assert groups == [[0], [1, 2], [3]]
    cfg = get_method("MEMIT-Merge").parse(TINY_HP)
    res = optimize_values(tiny, reqs, groups, 2, ["{}"], cfg.value_settings())
    assert res.values[0].shape[0] == 3


@pytest.mark.parametrize("method", sorted(METHOD_HP))
def test_compute_leaves_the_model_unchanged_and_restore_is_bit_exact(tiny, raw_requests, corpus, method):
    """Computing an edit changes nothing; applying it touches only the MLP output
    projections of the edited layers (never attention, not even for PMET); restoring is bit-exact."""
    reqs = make_requests(raw_requests)
    ctx = ctx_for(tiny, corpus)
    hp = METHOD_HP[method]
    before = weights_fingerprint(tiny.model)
    edit = get_method(method).compute(ctx, reqs, get_method(method).parse(hp))
    assert weights_fingerprint(tiny.model) == before
    assert set(edit.updates) == {tiny.arch.mlp_out.format(layer) for layer in hp["layers"]}
    originals = apply_edit(tiny, edit)
    changed = {name for name, p in tiny.model.named_parameters() if tensor_bytes(p) != tensor_bytes(originals.get(name.removesuffix(".weight"), p))}
    assert changed == {path + ".weight" for path in edit.updates}
    restore(tiny, originals)
    assert weights_fingerprint(tiny.model) == before


@pytest.mark.parametrize("method", ["MEMIT", "MEMIT-Merge"])
def test_with_a_tiny_regulariser_the_edited_layer_maps_each_key_to_its_value(tiny, raw_requests, corpus, method):
    """The least-squares property, in the residual stream where MEMIT's values live.

    MEMIT-Merge: every key reaches its group's value exactly. MEMIT: the two John Smith
    edits share one key but want different values, so the layer can only give that key
    the mean of the two (the same-subject conflict). Post-norm blocks (Gemma) pass the MLP
    output through an RMS norm whose output RMS is fixed, so the residual stream cannot
    reach every value: there the MLP output must change by exactly what ``mlp_change``
    asks for (the norm inverted up to scale).
    """
    from kedit.methods.post_norm import mlp_change

    reqs = make_requests(raw_requests)
    ctx = ctx_for(tiny, corpus)
    hp = TINY_HP | {"layers": [2], "context_tokens": 0, "mom2_update_weight": 1e-9}
    cfg = get_method(method).parse(hp)
    groups = group_indices(reqs, None if cfg.group_by == "none" else "subject")
    values = optimize_values(tiny, reqs, groups, 2, ["{}"], cfg.value_settings()).values[0]
    wanted = torch.stack([values[next(g for g, m in enumerate(groups) if i in m)] for i in range(len(reqs))])
    before, mlp_before = block_outputs(tiny, reqs, 2), mlp_outputs(tiny, reqs, 2)
    asked = mlp_change(tiny, 2, mlp_before, wanted - before)
    if method == "MEMIT":  # one key, two wishes: least squares grants their mean
        wanted[1] = wanted[2] = (wanted[1] + wanted[2]) / 2
        asked[1] = asked[2] = (asked[1] + asked[2]) / 2
    edit = get_method(method).compute(ctx, reqs, cfg)
    originals = apply_edit(tiny, edit)
    got, mlp_got = block_outputs(tiny, reqs, 2), mlp_outputs(tiny, reqs, 2)
    restore(tiny, originals)
    torch.testing.assert_close(mlp_got - mlp_before, asked, rtol=0, atol=1e-3 * float(asked.norm(dim=1).max()))
    if tiny.arch.post_mlp_norm is None:
        torch.testing.assert_close(got, wanted, rtol=0, atol=1e-3 * float(wanted.norm(dim=1).max()))


def test_states_that_overflow_are_named_before_any_value_step(tokenizer, raw_requests):
    """float16 overflows in some models' activations (Gemma 3's, measured); kedit says so
    instead of optimising NaN values into the weights."""
    from kedit.editing.values import NonFiniteError
    from tests.tiny import make_tiny

    loaded = make_tiny("llama", tokenizer, dtype=torch.float16)
    with torch.no_grad():  # block 0's MLP output exceeds float16's range (65504)
        for name in ("gate_proj", "up_proj", "down_proj"):
            get_module(loaded.model, f"model.layers.0.mlp.{name}").weight.fill_(1e3)
    reqs = make_requests(raw_requests)
    cfg = get_method("MEMIT").parse(TINY_HP)
    with pytest.raises(NonFiniteError, match=r"not finite in torch.float16"):
        optimize_values(loaded, reqs, group_indices(reqs, None), 2, ["{}"], cfg.value_settings())


def test_an_update_that_is_not_finite_is_refused_and_no_weight_changes(tiny):
    from kedit.editing.values import NonFiniteError
    from kedit.methods import Edit

    paths = [tiny.arch.mlp_out.format(layer) for layer in (1, 2)]
    before = {p: get_module(tiny.model, p).weight.detach().clone() for p in paths}
    shape = lambda p: before[p].T.shape if tiny.arch.conv1d else before[p].shape  # noqa: E731  (updates are (d_out, d_in))
    bad = Edit(updates={paths[0]: torch.ones(shape(paths[0])), paths[1]: torch.full(shape(paths[1]), float("nan"))}, info={})
    with pytest.raises(NonFiniteError, match=paths[1].replace(".", r"\.") + " is not finite"):
        apply_edit(tiny, bad)
    assert all(torch.equal(get_module(tiny.model, p).weight, w) for p, w in before.items())


def test_float64_is_used_for_the_solve_whatever_the_model_dtype():
    from kedit.editing.solve import memit_update

    k = torch.randn(3, 8, dtype=torch.float32)
    r = torch.randn(3, 5, dtype=torch.float32)
    upd = memit_update(k, r, torch.eye(8), 1e-12)
    assert upd.dtype == torch.float64 and upd.shape == (5, 8)
    torch.testing.assert_close((upd @ k.double().T).T, r.double(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("half", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("method", ["MEMIT", "MEMIT-Merge", "PMET", "AlphaEdit"])
def test_a_half_precision_model_gets_the_updates_of_its_float32_twin(tokenizer, raw_requests, corpus, method, half):
    """Half-precision weights (the GPU setting): statistics stay float32, updates are solved in
    float64 and applied in the model's dtype, and they match the float32 model's up to the few
    percent that half-precision forwards move the optimised values: cosine > 0.98 in float16.
    bfloat16 keeps 8 mantissa bits to float16's 11; on these random models its cosines run from
    0.92 (qwen3, whose value optimisation moves far from the initial value) to 1.0, so it is held
    to > 0.8, which still catches a dtype or layout mistake (cosine ~0). Both edit the same
    prompts: the context prefixes are the float32 twin's (words a model samples are discrete
    choices that bfloat16 can flip, as it did for the tiny gpt2 of transformers 5.0)."""
    from tests.tiny import TINY, make_tiny

    reqs = make_requests(raw_requests)
    hparams = METHOD_HP[method]
    for arch in sorted(TINY):
        updates, prefixes = {}, {}
        for dtype in (torch.float32, half):
            loaded = make_tiny(arch, tokenizer, dtype=dtype)
            ctx = ctx_for(loaded, corpus, templates=prefixes)  # generated by the float32 twin, reused by the half-precision one
            edit = get_method(method).compute(ctx, reqs, get_method(method).parse(hparams))
            assert all(m.dtype == torch.float32 for m in ctx.second_moments(hparams["layers"]).values())
            originals = apply_edit(loaded, edit)
            assert {get_module(loaded.model, path, loaded.arch.model_type).weight.dtype for path in edit.updates} == {dtype}
            restore(loaded, originals)
            updates[dtype] = edit.updates
        for path, full in updates[torch.float32].items():
            cos = torch.nn.functional.cosine_similarity(full.flatten(), updates[half][path].float().flatten(), dim=0)
            assert cos > (0.8 if half == torch.bfloat16 else 0.98), (arch, path)


def test_replaying_keeps_the_device_hooks_accelerate_puts_on_blocks(tiny, raw_requests):
    """Under ``device_map`` accelerate wraps each block's forward (moving inputs to the block's
    device); value optimisation replays the lower blocks and must leave those wrappers in place."""
    from accelerate.hooks import ModelHook, add_hook_to_module

    class Counting(ModelHook):
        calls = 0

        def pre_forward(self, module, *args, **kwargs):
            Counting.calls += 1
            return args, kwargs

    blocks = get_module(tiny.model, tiny.arch.layers, tiny.arch.model_type)
    for block in blocks:
        add_hook_to_module(block, Counting())
    reqs = make_requests(raw_requests)
    cfg = get_method("MEMIT").parse(TINY_HP)
    optimize_values(tiny, reqs, group_indices(reqs, None), 2, ["{}"], cfg.value_settings())
    Counting.calls = 0
    with torch.no_grad():
        tiny.model(input_ids=torch.tensor([[1, 2, 3]]))
    assert Counting.calls == len(blocks)


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("together", [False, True], ids=["row_per_line", "packed"])
def test_recomputing_only_the_tails_matches_the_full_forward(tiny, together, attention):
    """Positions before the subject's last token are cached; the tails attend to them, one
    row per line or packed several to a line under a block mask, rows taken from two splits."""
    from transformers import DynamicCache

    from kedit.editing.tokens import encode_rows, subject_row
    from kedit.models.prefix import (
        cache_argument,
        cache_contents,
        gather_tails,
        pack_tails,
        split_rows,
    )

    if attention == "sdpa" and not tiny.model._supports_sdpa:
        pytest.skip(f"{tiny.arch.model_type} has no SDPA attention")
    tiny.model.set_attn_implementation(attention)
    backbone = get_module(tiny.model, tiny.arch.backbone)
    texts = [
        [("The quick fox. {}'s birthplace is", "John Smith", "Tokyo"), ("{} is a", "Alice Brown", ""), ("I think. {}'s employer is", "Danielle Darrieux", "Google")],
        [("{} is a", "Thomas Ong", ""), ("{}'s occupation is", "Bob Jones", "actor"), ("The name of the father of {} is", "John Smith", "Mark Twain")],
    ]
    splits, wants, picked = [], [], [torch.tensor([0, 1, 2]), torch.tensor([0, 2])]
    for part in texts:
        enc = encode_rows(tiny.tokenizer, [subject_row(t, s, o) for t, s, o in part])
        cache = DynamicCache()
        full = backbone(input_ids=enc.input_ids, attention_mask=enc.attention_mask, **{cache_argument(tiny.model): cache, "use_cache": True}).last_hidden_state
        splits.append(split_rows(enc.input_ids, enc.attention_mask, enc.subject_pos, cache_contents(cache), 0))
        wants.append(gather_tails(full, enc.subject_pos, enc.attention_mask.sum(1)))
    packed = pack_tails(splits, picked, together, torch.float32, 0)
    lines = packed.input_ids.shape[0]
    assert lines < 5 if together else lines == 5  # the 1-token tails share lines with longer ones
    tails = backbone(**packed.forward_kwargs(tiny.model)).last_hidden_state
    for want, (b, j, line, col) in zip(wants, packed.places):
        torch.testing.assert_close(tails[line, col], want[b, j], rtol=0, atol=1e-5)


def test_rows_share_lines_without_overlapping_and_a_lines_cache_stays_within_the_longest_row():
    from kedit.models.prefix import _lines

    tails, prefixes = [6, 4, 2] + [1] * 40, [2, 5, 1] + [3] * 40
    line, col, slot, n_lines = _lines(tails, prefixes, together=True)
    width, room = 6, 12  # the longest tail; twice the longest prefix (5) or the width, whichever is more
    for n in range(n_lines):
        rows = [r for r in range(len(tails)) if line[r] == n]
        cols = sorted((col[r], col[r] + tails[r]) for r in rows)
        keys = sorted((slot[r], slot[r] + prefixes[r]) for r in rows)
        assert all(a[1] <= b[0] for a, b in zip(cols, cols[1:])) and cols[-1][1] <= width
        assert all(a[1] <= b[0] for a, b in zip(keys, keys[1:])) and keys[-1][1] <= room
    assert n_lines < len(tails)
    assert _lines(tails, prefixes, together=False)[3] == len(tails)


def test_values_are_the_same_with_rows_packed_into_lines_or_one_row_per_line(tiny, raw_requests, monkeypatch):
    """Packing tails several to a line (eager/SDPA attention) changes only the layout of the
    passes; flash attention, which takes no block mask, runs one row per line."""
    from kedit.editing.values import optimise as values_mod

    reqs = make_requests(raw_requests)
    cfg = get_method("MEMIT").parse(TINY_HP)
    run = lambda: optimize_values(tiny, reqs, group_indices(reqs, None), 2, ["{}", "Hello there. {}"], cfg.value_settings())  # noqa: E731
    packed = run()
    monkeypatch.setattr(values_mod, "takes_block_masks", lambda model: False)
    per_line = run()
    assert torch.equal(packed.steps, per_line.steps)
    torch.testing.assert_close(packed.values[0], per_line.values[0], rtol=0, atol=1e-4 * float(per_line.values[0].norm(dim=1).max()))


def test_values_are_the_same_when_the_window_forbids_a_cached_prefix(tokenizer, raw_requests, monkeypatch):
    """Gemma's sliding window counts cache slots; when a row would not fit, whole rows are recomputed."""
    from kedit.editing.values import first_pass as values_mod
    from tests.tiny import make_tiny

    loaded = make_tiny("gemma3_text", tokenizer)
    reqs = make_requests(raw_requests)
    cfg = get_method("MEMIT").parse(TINY_HP)
    split = optimize_values(loaded, reqs, group_indices(reqs, None), 2, ["{}", "Hello there. {}"], cfg.value_settings())
    monkeypatch.setattr(values_mod, "fits_window", lambda model, width: False)
    whole = optimize_values(loaded, reqs, group_indices(reqs, None), 2, ["{}", "Hello there. {}"], cfg.value_settings())
    torch.testing.assert_close(whole.values[0], split.values[0], rtol=0, atol=1e-4 * float(split.values[0].norm(dim=1).max()))


def test_ft_l_respects_its_l_infinity_bound(tiny, raw_requests):
    reqs = make_requests(raw_requests)
    hp = METHOD_HP["FT-L"] | {"lr": 1e-2, "norm_constraint": 3e-4}
    edit = get_method("FT-L").compute(ctx_for(tiny, None), reqs, get_method("FT-L").parse(hp))
    (update,) = edit.updates.values()
    assert float(update.abs().max()) <= 3e-4 + 1e-7
    assert float(update.abs().max()) > 1e-4, "the bound should be reached with this learning rate"


def test_ft_l_runs_the_blocks_below_its_layers_once_and_gets_the_update_of_full_forwards(tiny, raw_requests, monkeypatch):
    """Block 0 runs in FT-L's first pass only (then replayed); recomputing it at every step,
    as plain fine-tuning does, gives the same update."""
    from contextlib import nullcontext

    import kedit.methods.ft

    reqs = make_requests(raw_requests)
    cfg = get_method("FT-L").parse(METHOD_HP["FT-L"] | {"lr": 1e-2, "norm_constraint": 1.0, "early_stop_loss": 0.0})
    calls = []
    layer_module(tiny.model, tiny.arch, tiny.arch.mlp_out, 0).register_forward_hook(lambda *_: calls.append(1))
    replayed = get_method("FT-L").compute(ctx_for(tiny, None), reqs, cfg)
    assert len(calls) == 1
    monkeypatch.setattr(kedit.methods.ft, "replay_below", lambda *args: nullcontext())
    full = get_method("FT-L").compute(ctx_for(tiny, None), reqs, cfg)
    assert len(calls) == 1 + 1 + cfg.num_steps
    for path, update in full.updates.items():
        assert float(update.abs().max()) > 1e-3
        torch.testing.assert_close(replayed.updates[path], update, rtol=1e-4, atol=1e-6)


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
    assert on_edited > 0 and on_preserved < 1e-3 * on_edited


def test_pmet_optimises_attention_and_mlp_deltas_but_values_the_mlp(tiny, raw_requests):
    cfg = get_method("PMET").parse(METHOD_HP["PMET"])
    reqs = make_requests(raw_requests)
    sites = [tiny.arch.attn_out, tiny.arch.mlp_out]
    res = optimize_values(tiny, reqs, group_indices(reqs, None), 2, ["{}"], cfg.value_settings(), sites=sites)
    assert len(res.values) == 2 and all(d.abs().sum() > 0 for d in res.deltas)
    for delta, init in zip(res.deltas, res.init):  # each clamped relative to its own initial value
        assert (delta.norm(dim=1) <= cfg.clamp_norm_factor * init.norm(dim=1) + 1e-4).all()


def test_pmet_asks_each_layer_for_its_share_of_the_stream_move_its_mlp_value_needs(tiny, raw_requests, corpus):
    """PMET's value is an MLP output at the last layer (2). Layer 1 of [1, 2] must move the
    residual stream by 1/sqrt(2) of what reaching that value moves it: the value minus the
    current MLP output where the MLP output is added as is, the post-MLP norm's change in
    post-norm blocks (Gemma), where the raw difference is in another space."""
    from kedit.methods.post_norm import mlp_change, stream_change

    reqs = make_requests([raw_requests[i] for i in (0, 1, 3)])  # distinct subjects: distinct keys
    ctx = ctx_for(tiny, corpus)
    cfg = get_method("PMET").parse(METHOD_HP["PMET"] | {"context_tokens": 0, "mom2_update_weight": 1e-9})
    sites = [tiny.arch.attn_out, tiny.arch.mlp_out]
    value = optimize_values(tiny, reqs, group_indices(reqs, None), 2, ["{}"], cfg.value_settings(), sites=sites).values[-1]
    mlp1_before = mlp_outputs(tiny, reqs, 1)
    share = stream_change(tiny, 2, mlp_outputs(tiny, reqs, 2), value) / 2**0.5
    asked = mlp_change(tiny, 1, mlp1_before, share)
    originals = apply_edit(tiny, get_method("PMET").compute(ctx, reqs, cfg))
    got = mlp_outputs(tiny, reqs, 1) - mlp1_before  # layer 2's update cannot reach layer 1
    restore(tiny, originals)
    torch.testing.assert_close(got, asked, rtol=0, atol=1e-3 * float(asked.norm(dim=1).max()))


def test_sequential_editing_keeps_earlier_keys_and_restores_the_model(tiny, raw_requests, corpus):
    from kedit.experiment.evaluate import edit_sequentially
    from kedit.methods import MethodRun
    from kedit.metrics import get_metric

    reqs = make_requests(raw_requests)
    ctx = ctx_for(tiny, corpus)
    before = weights_fingerprint(tiny.model)
    seen = []
    original_remember = ctx.remember

    def remember(keys):
        original_remember(keys)
        seen.append({layer: float(m.abs().sum()) for layer, m in ctx.earlier.items()})

    ctx.remember = remember
    res = edit_sequentially(ctx, MethodRun.of("MEMIT", TINY_HP), [reqs[:2], reqs[2:]], [get_metric("efficacy")])
    assert [s["step"] for s in res.steps] == [0, 1]
    assert seen[1][1] > seen[0][1] > 0, "the second batch's keys add to the first's"
    assert ctx.earlier == {}
    assert weights_fingerprint(tiny.model) == before


def test_earlier_keys_enter_the_solve():
    from kedit.editing.solve import memit_update

    k = torch.randn(2, 6, dtype=torch.float64)
    r = torch.randn(2, 3, dtype=torch.float64)
    kept = torch.randn(4, 6, dtype=torch.float64)
    plain = memit_update(k, r, torch.eye(6), 1.0)
    keeping = memit_update(k, r, torch.eye(6), 1.0, kept.T @ kept)
    # keeping earlier keys shrinks what the update does to them
    assert (keeping @ kept.T).norm() < (plain @ kept.T).norm()


def test_post_norm_inversion_survives_zero_gains(tokenizer):
    """Gemma's post-MLP norm has gains from 0 to hundreds; features with ~0 gain cannot be
    moved, and must not blow the MLP output up (dividing by the gain would)."""
    from kedit.methods.post_norm import mlp_change
    from tests.tiny import make_tiny

    loaded = make_tiny("gemma3_text", tokenizer)
    norm = layer_module(loaded.model, loaded.arch, loaded.arch.post_mlp_norm, 2)
    with torch.no_grad():
        norm.weight.copy_(torch.linspace(-1.0, 30.0, norm.weight.numel()))  # gain 1 + w: from 0 to 31
    torch.manual_seed(0)
    y, other = torch.randn(2, 3, norm.weight.numel())
    wanted = norm(other) - norm(y)  # a reachable target: the norm's output for another input
    change = mlp_change(loaded, 2, y, wanted)
    assert torch.isfinite(change).all()
    assert (change.norm(dim=1) < 3 * y.norm(dim=1)).all()
    before = (norm(y) + wanted - norm(y)).norm(dim=1)
    after = (norm(y) + wanted - norm(y + change)).norm(dim=1)
    assert (after < 0.2 * before).all()


def test_before_scores_come_from_the_unedited_model_and_the_cell_restores_it(tiny, raw_requests, corpus, monkeypatch):
    from kedit.experiment.evaluate import observe_for
    from kedit.metrics import Metric, get_metric
    from kedit.metrics.rewrite import _efficacy
    from tests.tiny import evaluate

    reqs = make_requests(raw_requests)
    ctx = ctx_for(tiny, corpus)
    unedited = weights_fingerprint(tiny.model)
    seen = {}
    probe = Metric(
        name="probe", higher_is_better=True, description="weights seen before and after the edit",
        before=lambda seen_, requests, ectx: seen.setdefault("before", weights_fingerprint(seen_.loaded.model)),
        after=lambda seen_, requests, ectx, state: seen.setdefault("after", weights_fingerprint(seen_.loaded.model)) and {},
    )
    res = evaluate(ctx, "MEMIT", METHOD_HP["MEMIT"], reqs, [probe, "efficacy", "paraphrase"])
    assert seen["before"] == unedited != seen["after"]
    assert res.metrics["efficacy_before"] == _efficacy(observe_for(tiny, [get_metric("efficacy")], reqs), reqs)
    assert "paraphrase_before" in res.metrics
    assert weights_fingerprint(tiny.model) == unedited


def test_passes_cover_every_row_once_and_pad_less_than_one_pass(tokenizer):
    from kedit.editing.tokens import subject_row
    from kedit.editing.values import PASS_OVERHEAD_TOKENS, first_pass_batches, tail_length

    targets = ["Paris", "the United States of America", "a painter and sculptor of the Italian school", "Rome", "English"] * 7
    rows = [subject_row("{}'s birthplace is", "John Smith", t) for t in targets] + [subject_row("{} is a", "John Smith")] * 10
    tails = [tail_length(tokenizer, r) for r in rows]
    for budget in (2048, 64):
        parts = first_pass_batches(tokenizer, rows, budget)
        assert sorted(i for p in parts for i in p) == list(range(len(rows)))
        assert all(len(p) == 1 or len(p) * max(tails[i] for i in p) <= budget for p in parts)
        cost = sum(len(p) * max(tails[i] for i in p) + PASS_OVERHEAD_TOKENS for p in parts)
        if budget == 2048:
            assert len(parts) > 1 and cost < len(rows) * max(tails) + PASS_OVERHEAD_TOKENS  # beats one padded pass
        assert cost <= sum(t + PASS_OVERHEAD_TOKENS for t in tails)  # and one pass per row


def test_metrics_rows_scored_together_give_the_scores_of_separate_passes(tiny, raw_requests, monkeypatch):
    """Every metric's rows go through one scoring call per phase; each metric then finds its
    rows there, with the scores it would have got alone."""
    from kedit.experiment.evaluate import BeforeStates, scores_after
    from kedit.metrics import EvalContext, get_metric, scoring

    reqs = make_requests(raw_requests)
    chosen = [get_metric(m) for m in ("efficacy", "paraphrase", "specificity", "efficacy_prob", "paraphrase_prob", "efficacy_exact", "paraphrase_exact")]
    ectx = EvalContext(edit_layers=(1, 2))
    before = BeforeStates().get(tiny, chosen, reqs, ectx)
    separate = {}
    for m in chosen:
        separate |= scores_after(tiny, [m], reqs, ectx, before)
    calls = []
    score = scoring.score
    monkeypatch.setattr(scoring, "score", lambda loaded, rows: calls.append(len(rows)) or score(loaded, rows))
    together = scores_after(tiny, chosen, reqs, ectx, before)
    assert calls == [len({r for m in chosen for r in m.rows(reqs)})]
    assert together == pytest.approx(separate, abs=1e-6)


def test_exact_match_credits_a_prompt_only_when_every_target_token_is_the_argmax(tiny, raw_requests, corpus):
    from kedit.metrics.scoring import Scored
    from tests.tiny import evaluate

    assert Scored(torch.tensor([5, 6, 7]), torch.tensor([5, 6, 7]), 0.0).exact == 1.0
    partly = Scored(torch.tensor([5, 9, 7]), torch.tensor([5, 6, 7]), 0.0)
    assert partly.exact == 0.0 and partly.accuracy == pytest.approx(2 / 3)
    reqs = make_requests(raw_requests)
    res = evaluate(ctx_for(tiny, corpus), "MEMIT", METHOD_HP["MEMIT"], reqs, ["efficacy", "efficacy_exact", "paraphrase", "paraphrase_exact"])
    m = res.metrics
    for name in ("efficacy", "paraphrase"):
        assert 0.0 <= m[f"{name}_exact"] <= m[name] and 0.0 <= m[f"{name}_exact_before"] <= m[f"{name}_before"]
    assert (m["efficacy_exact"] * len(reqs)) == pytest.approx(round(m["efficacy_exact"] * len(reqs)))  # a share of the requests


def test_cells_of_one_batch_share_the_metrics_look_at_the_unedited_model(tiny, raw_requests, corpus, monkeypatch):
    from kedit.experiment.evaluate import BeforeStates
    from kedit.metrics import Metric
    from tests.tiny import evaluate

    reqs = make_requests(raw_requests)
    ctx = ctx_for(tiny, corpus)
    looks = []
    probe = Metric(name="probe", higher_is_better=True, description="counts looks before the edit",
                   before=lambda loaded, requests, ectx: looks.append(len(requests)) or len(looks), after=lambda loaded, requests, ectx, state: {"probe": state})
    layer_looks = []  # a metric whose look depends on the edited layers (as AKD's does)
    layer_probe = Metric(name="layer_probe", higher_is_better=True, description="counts looks per edited layers",
                         before=lambda loaded, requests, ectx: layer_looks.append(ectx.edit_layers) or 0,
                         after=lambda loaded, requests, ectx, state: {"layer_probe": 0.0}, before_reads_context=True)
    cache = BeforeStates()
    names = [probe, layer_probe, "efficacy", "specificity"]
    first = evaluate(ctx, "MEMIT", METHOD_HP["MEMIT"], reqs, names, before=cache)
    second = evaluate(ctx, "MEMIT-Merge", METHOD_HP["MEMIT-Merge"], reqs, names, before=cache)
    assert looks == [len(reqs)] and first.metrics["probe"] == second.metrics["probe"] == 1
    assert first.metrics["efficacy_before"] == second.metrics["efficacy_before"]
    third = evaluate(ctx, "FT-L", METHOD_HP["FT-L"], reqs, names, before=cache)  # other layers
    assert looks == [len(reqs)] and third.metrics["efficacy_before"] == first.metrics["efficacy_before"]
    assert layer_looks == [tuple(METHOD_HP["MEMIT"]["layers"]), tuple(METHOD_HP["FT-L"]["layers"])]
    alone = evaluate(ctx, "MEMIT-Merge", METHOD_HP["MEMIT-Merge"], reqs, ["efficacy", "specificity"])
    assert alone.metrics == {k: v for k, v in second.metrics.items() if k not in ("probe", "layer_probe")}
    evaluate(ctx, "MEMIT", METHOD_HP["MEMIT"], reqs[:2], [probe], before=cache)  # another batch: a new look
    assert looks == [len(reqs), 2]


def test_scores_of_rows_packed_into_lines_are_those_of_a_plain_forward_of_each_row(tiny):
    from kedit.editing.tokens import TextRow, encode_rows, with_target
    from kedit.metrics.scoring import score

    texts = [("Danielle Darrieux's mother tongue is", "French"), ("The name of the father of John Smith is", "Mark Twain"),
             ("The capital of France is", ""), ("Alice Brown's occupation is", "painter"), ("I think", "you are right about the weather")]
    rows = [TextRow(prefix=p, target=with_target(p, t) if t else "") for p, t in texts]
    for row, got in zip(rows, score(tiny, rows)):
        enc = encode_rows(tiny.tokenizer, [row])
        logp = tiny.model(input_ids=enc.input_ids).logits[0].float().log_softmax(-1)
        pos = enc.pred_pos if row.target else enc.last_pos
        assert torch.equal(got.predicted, logp[pos].argmax(-1))
        want = float(logp[enc.pred_pos, enc.pred_target].sum()) if row.target else 0.0
        assert got.logprob == pytest.approx(want, abs=1e-4)
