"""Models whose modules accelerate offloads (``device_map`` with too little device memory):
edits must land in the stored copy the module is loaded from, and a copy that cannot take
them (disk) must be refused by name, not silently lose the edit."""

from __future__ import annotations

import pytest
import torch

from kedit.editing.requests import make_requests
from kedit.methods import apply_edit, get_method, restore
from kedit.models import prepare
from kedit.models.architecture import get_module
from kedit.models.offload import OffloadError, readable
from tests.tiny import METHOD_HP, TINY, ctx_for, make_tiny, offloaded


def logits(loaded, text="John Smith's birthplace is"):
    ids = loaded.tokenizer(text, return_tensors="pt").to(loaded.device)
    with torch.no_grad():
        return loaded.model(**ids).logits.float().cpu()


@pytest.mark.parametrize("method", ["MEMIT", "MEMIT-Merge", "PMET", "AlphaEdit"])
def test_an_offloaded_model_is_edited_in_its_stored_copy(tokenizer, raw_requests, corpus, method):
    reqs = make_requests(raw_requests)
    cfg = get_method(method).parse(METHOD_HP[method])
    for arch in sorted(TINY):
        ref, off = make_tiny(arch, tokenizer), offloaded(arch, tokenizer)
        assert off.fingerprint == ref.fingerprint, arch
        want = get_method(method).compute(ctx_for(ref, corpus), reqs, cfg)
        edit = get_method(method).compute(ctx_for(off, corpus), reqs, cfg)
        for path, upd in want.updates.items():
            # measured bit-identical (same CPU kernels, same weights): the tolerances admit only
            # float32 reordering; an edit lost or applied twice changes updates and logits O(1)
            torch.testing.assert_close(edit.updates[path], upd, rtol=1e-4, atol=1e-6 * upd.abs().max().item())
        unedited = logits(off)
        apply_edit(ref, want)
        originals = apply_edit(off, edit)
        assert not torch.equal(logits(off), unedited), arch  # the next forward loads the edited copy
        torch.testing.assert_close(logits(off), logits(ref), rtol=1e-4, atol=1e-4)
        restore(off, originals)
        assert torch.equal(logits(off), unedited), arch
        assert all(p.device.type == "meta" for p in off.model.parameters()), arch


def test_ft_l_refuses_an_offloaded_layer_by_name(tokenizer, raw_requests, corpus):
    off = offloaded("llama", tokenizer)
    with pytest.raises(OffloadError, match=r"model\.layers\.2\.mlp\.down_proj"):
        get_method("FT-L").compute(ctx_for(off, corpus), make_requests(raw_requests), get_method("FT-L").parse(METHOD_HP["FT-L"]))


def test_a_disk_offloaded_layer_is_refused_by_name_and_the_model_is_unchanged(tokenizer, raw_requests, corpus, tmp_path):
    from accelerate import dispatch_model

    tiny = make_tiny("llama", tokenizer)
    device_map = {"model.embed_tokens": "cpu", "model.rotary_emb": "cpu", "model.norm": "cpu", "lm_head": "cpu"}
    device_map |= {f"model.layers.{i}": ("disk" if i == 2 else "cpu") for i in range(4)}
    dispatch_model(tiny.model, device_map=device_map, offload_dir=str(tmp_path / "offload"))
    disk = prepare(tiny.model, tokenizer, name="tiny-llama-disk", source="random", device=None)
    assert disk.fingerprint == tiny.fingerprint
    down_proj = get_module(disk.model, "model.layers.2.mlp.down_proj")
    stored = readable(down_proj, "weight").clone()
    before = logits(disk)
    with pytest.raises(OffloadError, match=r"model\.layers\.2\.mlp\.down_proj\.weight is offloaded to disk"):
        get_method("MEMIT").compute(ctx_for(disk, corpus), make_requests(raw_requests), get_method("MEMIT").parse(METHOD_HP["MEMIT"]))
    assert torch.equal(readable(down_proj, "weight"), stored) and torch.equal(logits(disk), before)


def test_a_model_loaded_with_too_little_memory_edits_its_resident_layers_and_names_a_disk_one(tokenizer, raw_requests, corpus, tmp_path, monkeypatch):
    """``load_model(device_map="auto", max_memory=..., offload_folder=...)``: the CPU holds the
    embeddings and blocks 0-1 (200 KB), blocks 2-3 and the head go to disk. Layers 0-1 are
    edited as on the resident model; asking for layer 2 is refused, by name, before any work."""
    from kedit.models import load_model

    tiny = make_tiny("llama", tokenizer)
    tiny.model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    placed = load_model(str(tmp_path / "model"), device_map="auto", max_memory={"cpu": "200KB"}, offload_folder=str(tmp_path / "offload"))
    assert placed.model.hf_device_map["model.layers.1"] == "cpu" and placed.model.hf_device_map["model.layers.2"] == "disk"
    assert placed.fingerprint == tiny.fingerprint
    reqs = make_requests(raw_requests)
    low = get_method("MEMIT").parse(METHOD_HP["MEMIT"] | {"layers": [0, 1]})
    ref_ctx = ctx_for(tiny, corpus)
    placed_ctx = ctx_for(placed, corpus, templates=ref_ctx.prefix_templates)  # the same context prefixes
    want = get_method("MEMIT").compute(ref_ctx, reqs, low)
    edit = get_method("MEMIT").compute(placed_ctx, reqs, low)
    for path, upd in want.updates.items():  # tolerances: as in the test above (measured bit-identical here too)
        torch.testing.assert_close(edit.updates[path], upd, rtol=1e-4, atol=1e-6 * upd.abs().max().item())
    apply_edit(tiny, want)
    apply_edit(placed, edit)
    torch.testing.assert_close(logits(placed), logits(tiny), rtol=1e-4, atol=1e-4)
    from kedit.editing.values import VALUE_OPTIMISERS

    def no_work(*args, **kwargs):
        raise AssertionError("values were optimised for an edit that cannot be written")

    monkeypatch.setitem(VALUE_OPTIMISERS, "batched", no_work)
    with pytest.raises(OffloadError, match=r"model\.layers\.2\.mlp\.down_proj\.weight is offloaded to disk"):
        get_method("MEMIT").compute(placed_ctx, reqs, get_method("MEMIT").parse(METHOD_HP["MEMIT"]))
