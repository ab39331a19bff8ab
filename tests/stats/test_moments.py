"""Second moments: correct, cached, atomic, rebuilt when the cache is damaged, resumable, and
the same when two processes under torchrun share the corpus."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from kedit.models import load_model
from kedit.models.architecture import layer_module
from kedit.models.hooks import record
from kedit.stats import moments
from kedit.stats.corpus import Corpus, text_files
from kedit.stats.moments import StatsKey, cache_path, model_folder, second_moments, windows
from tests.tiny import SENTENCES


def _corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n\n".join(SENTENCES))
    return text_files([str(path)])


def test_the_moment_is_the_mean_outer_product_of_the_keys(tiny, tmp_path):
    corpus = _corpus(tmp_path)
    got = second_moments(tiny, corpus, [1, 3], n_samples=5, max_length=12, batch_size=2, root=tmp_path / "s", progress=False)
    wins = list(windows(tiny.tokenizer, corpus, 12))[:5]
    keys = []
    for w in wins:
        with record({"k": (layer_module(tiny.model, tiny.arch, tiny.arch.mlp_out, 3), "input")}) as seen:
            tiny.model(input_ids=torch.tensor([w]))
        keys.append(seen["k"][0])
    k = torch.cat(keys).double()
    # float32 keys of batched, padded windows against one window at a time, and a float32 result
    # (measured on the 14 tiny architectures, torch 2.13 CPU: at most 7.2e-10, under 0.07 % of
    # the tolerance, on entries up to 9e-3); a sum for a mean, another layer's keys or padding
    # counted as keys are far outside it
    torch.testing.assert_close(got[3].moment.double(), k.T @ k / len(k), rtol=1e-5, atol=1e-6)
    assert got[3].count == len(k) == sum(len(w) for w in wins)


def test_a_second_run_reads_the_cache(tiny, tmp_path, monkeypatch):
    corpus = _corpus(tmp_path)
    first = second_moments(tiny, corpus, [1], 4, 12, root=tmp_path / "s", progress=False)
    monkeypatch.setattr(moments, "accumulate", lambda *a, **k: (_ for _ in ()).throw(AssertionError("recomputed")))
    again = second_moments(tiny, corpus, [1], 4, 12, root=tmp_path / "s", progress=False)
    assert torch.equal(first[1].moment, again[1].moment)
    assert not list((tmp_path / "s").rglob("tmp-*")), "no temporary file is left behind"
    assert not list((tmp_path / "s").rglob("*.tmp")), "nor one of kedit.util.atomic_path's"


def test_the_cache_key_digest_and_layout_are_those_of_caches_already_on_disk(tmp_path):
    """Fixed strings: a change here means every user's ~/.cache/kedit/stats is silently recomputed."""
    key = StatsKey("f" * 40 + "é", "model.layers.4.mlp.down_proj", "c" * 64, 2000, 128, "float32")
    assert key.digest() == "fe17fd7ac0b6e61e62626908d4ae8c6c"
    assert model_folder(key.model_fingerprint, tmp_path) == tmp_path / ("f" * 16)
    assert cache_path(key, tmp_path) == tmp_path / ("f" * 16) / "model.layers.4.mlp.down_proj-fe17fd7ac0b6e61e62626908d4ae8c6c.pt"


def test_the_default_cache_root_is_stats_under_kedit_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path / "cache"))
    assert model_folder("0123456789abcdef0123") == tmp_path / "cache" / "stats" / "0123456789abcdef"


def test_a_different_sample_count_is_a_different_cache_entry(tiny, tmp_path):
    corpus = _corpus(tmp_path)
    a = second_moments(tiny, corpus, [1], 2, 12, root=tmp_path / "s", progress=False)
    b = second_moments(tiny, corpus, [1], 4, 12, root=tmp_path / "s", progress=False)
    assert a[1].count < b[1].count
    assert len(list((tmp_path / "s").rglob("*.pt"))) == 2


def _forwards(loaded) -> list:
    calls = []
    loaded.model.register_forward_pre_hook(lambda m, a, k: calls.append(1), with_kwargs=True)
    return calls


def test_more_windows_continue_from_a_smaller_cached_count(tiny, tmp_path):
    corpus = _corpus(tmp_path)
    fresh = second_moments(tiny, corpus, [1, 3], 4, 12, batch_size=1, root=tmp_path / "fresh", progress=False)
    second_moments(tiny, corpus, [1, 3], 2, 12, batch_size=1, root=tmp_path / "s", progress=False)
    calls = _forwards(tiny)
    more = second_moments(tiny, corpus, [1, 3], 4, 12, batch_size=1, root=tmp_path / "s", progress=False)
    assert len(calls) == 2, "only the two windows after the cached two are computed"
    for layer in (1, 3):
        assert more[layer].count == fresh[layer].count
        # the same windows in the same batches; only the cached mean's float32 rounding differs
        # (a window counted twice or missed moves entries by ~1/4 of their size)
        torch.testing.assert_close(more[layer].moment, fresh[layer].moment, rtol=1e-5, atol=1e-7)
        assert more[layer].key.n_samples == 4


def test_a_damaged_smaller_count_is_no_start(tiny, tmp_path):
    corpus = _corpus(tmp_path)
    second_moments(tiny, corpus, [1], 2, 12, batch_size=1, root=tmp_path / "s", progress=False)
    (small,) = (tmp_path / "s").rglob("*.pt")
    small.write_bytes(small.read_bytes()[:100])
    calls = _forwards(tiny)
    got = second_moments(tiny, corpus, [1], 4, 12, batch_size=1, root=tmp_path / "s", progress=False)
    assert len(calls) == 4, "all four windows computed afresh"
    assert got[1].count == second_moments(tiny, corpus, [1], 4, 12, root=tmp_path / "fresh", progress=False)[1].count


def test_a_smaller_count_of_other_windows_is_no_start(tiny, tmp_path):
    corpus = _corpus(tmp_path)
    second_moments(tiny, corpus, [1], 2, 8, batch_size=1, root=tmp_path / "s", progress=False)  # 8-token windows
    calls = _forwards(tiny)
    second_moments(tiny, corpus, [1], 4, 12, batch_size=1, root=tmp_path / "s", progress=False)
    assert len(calls) == 4


def test_a_corrupt_cache_file_is_reported_and_rebuilt(tiny, tmp_path, caplog):
    corpus = _corpus(tmp_path)
    first = second_moments(tiny, corpus, [1], 4, 12, root=tmp_path / "s", progress=False)
    (path,) = (tmp_path / "s").rglob("*.pt")
    path.write_bytes(b"not a torch file")
    with caplog.at_level(logging.WARNING):
        again = second_moments(tiny, corpus, [1], 4, 12, root=tmp_path / "s", progress=False)
    assert "unusable" in caplog.text and str(path) in caplog.text
    assert torch.equal(first[1].moment, again[1].moment)
    assert torch.load(path, weights_only=True)["count"] == first[1].count


def _moments(cache: Path) -> dict[str, tuple[torch.Tensor, int]]:
    out = {}
    for f in sorted(cache.rglob("*.pt")):
        if f.name.startswith("partial-"):
            continue
        blob = torch.load(f, weights_only=True)
        out[blob["key"]["module"]] = (blob["moment"], blob["count"])
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# float32: the ranks' float64 sums are added in another order, then stored float32: measured at most
# 1.5e-11 (0.015 % of the tolerance). bfloat16: each rank batches other windows together, and a
# batch's bfloat16 forward and product round differently with its company: measured at most
# 3.2e-7 absolute on entries up to 1.6e-4 (0.14 % in Frobenius norm). A window counted twice or
# lost moves entries by ~1/24 (the largest by ~7e-6).
SHARDED = {"float32": {"rtol": 1e-5, "atol": 1e-7}, "bfloat16": {"rtol": 1e-2, "atol": 1e-6}}


@pytest.mark.parametrize("precision", sorted(SHARDED))
def test_two_processes_under_torchrun_give_the_single_process_statistics(tmp_path, tiny_model_dir, corpus_file, precision):
    args = ["stats", "compute", str(tiny_model_dir), "--layers", "1,3", "--corpus", str(corpus_file), "--n-samples", "24", "--precision", precision]
    single, double = tmp_path / "single", tmp_path / "double"
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-m", "kedit.cli", *args], check=True, env=env | {"KEDIT_CACHE": str(single)}, capture_output=True)
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
         "--master-port", str(_free_port()), "-m", "kedit.cli", *args],
        env=env | {"KEDIT_CACHE": str(double), "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    a, b = _moments(single), _moments(double)
    assert set(a) == set(b) == {"model.layers.1.mlp.down_proj", "model.layers.3.mlp.down_proj"}
    for module in a:
        assert a[module][1] == b[module][1], "every token is counted once across the two ranks"
        torch.testing.assert_close(a[module][0], b[module][0], **SHARDED[precision])
    assert len(list(double.rglob("*.pt"))) == 2, "written once, by rank 0, and no partial file left behind"


class _Interrupt(Exception):
    pass


def test_an_interrupted_pass_resumes_from_its_checkpoint(tmp_path, tiny_model_dir, corpus_file, monkeypatch):
    loaded = load_model(str(tiny_model_dir))
    full = text_files([str(corpus_file)])
    n = len(list(moments.windows(loaded.tokenizer, full, 16)))
    reference = moments.accumulate(loaded, full, [2], n, 16, batch_size=2, progress=False)

    paragraphs = list(full.texts())

    def dying():  # the corpus stream breaks a third of the way, as a killed job would
        for i, p in enumerate(paragraphs):
            if i == len(paragraphs) // 3:
                raise _Interrupt
            yield p

    broken = Corpus(name=full.name, fingerprint=full.fingerprint, read=dying)
    ckpt = tmp_path / "partial.pt"
    with pytest.raises(_Interrupt):
        moments.accumulate(loaded, broken, [2], n, 16, batch_size=2, progress=False, checkpoint=ckpt, checkpoint_every=1)
    saved = torch.load(ckpt, weights_only=True)["next_window"]
    assert 0 < saved < n

    forwards = []
    loaded.model.register_forward_pre_hook(lambda m, a, k: forwards.append(1), with_kwargs=True)
    resumed = moments.accumulate(loaded, full, [2], n, 16, batch_size=2, progress=False, checkpoint=ckpt, checkpoint_every=1)
    assert len(forwards) == -(-(n - saved) // 2), "only the windows after the checkpoint are computed again"
    assert resumed[2][1] == reference[2][1]
    # measured bit-identical (float64 sums of the same batches in the same order); 1e-9 admits
    # only float64 reordering, a batch summed twice or skipped is ~1/n of the entries off
    torch.testing.assert_close(resumed[2][0], reference[2][0], rtol=1e-9, atol=1e-9)


# --- the cache's checksum: an altered file is reported and recomputed, never used ---------------


@pytest.fixture
def llama(tokenizer):
    from tests.tiny import make_tiny

    return make_tiny("llama", tokenizer)


def _cached(tmp_path) -> tuple[Path, dict]:
    (path,) = [p for p in (tmp_path / "s").rglob("*.pt") if not p.name.startswith("partial-")]
    return path, torch.load(path, weights_only=True)


def _altered(blob: dict, how: str) -> dict:
    moment = blob["moment"].clone()
    if how == "finite":
        moment *= 1.5  # still finite and symmetric: only the checksum tells
    else:
        moment[0, 0] = float("nan")
    out = blob | {"moment": moment}
    return out | {"sha256": moments.checksum(out)} if how == "non-finite, checksum recomputed" else out


@pytest.mark.parametrize("how", ["finite", "non-finite", "non-finite, checksum recomputed"])
def test_an_altered_cache_file_is_reported_and_recomputed_never_used(llama, tmp_path, caplog, how):
    corpus = _corpus(tmp_path)
    first = second_moments(llama, corpus, [1], 4, 12, root=tmp_path / "s", progress=False)
    path, blob = _cached(tmp_path)
    assert blob["sha256"] == moments.checksum(blob), "written with its checksum"
    torch.save(_altered(blob, how), path)
    with caplog.at_level(logging.WARNING):
        again = second_moments(llama, corpus, [1], 4, 12, root=tmp_path / "s", progress=False)
    assert f"statistics cache {path} is unusable" in caplog.text
    assert ("checksum" if how != "non-finite, checksum recomputed" else "not finite") in caplog.text
    assert torch.equal(first[1].moment, again[1].moment)
    assert torch.equal(_cached(tmp_path)[1]["moment"], first[1].moment), "the cache file is rewritten"


def test_a_cache_file_from_before_checksums_is_kept_once_and_upgraded(llama, tmp_path, monkeypatch, caplog):
    """Same key, same layout: a plausible old file is used (recomputing costs hours on big
    models) and gets a checksum; an implausible one (asymmetric) is recomputed."""
    corpus = _corpus(tmp_path)
    first = second_moments(llama, corpus, [1], 4, 12, root=tmp_path / "s", progress=False)
    path, blob = _cached(tmp_path)
    old = {k: v for k, v in blob.items() if k != "sha256"}
    torch.save(old, path)
    real = moments.accumulate
    monkeypatch.setattr(moments, "accumulate", lambda *a, **k: (_ for _ in ()).throw(AssertionError("recomputed")))
    with caplog.at_level(logging.INFO):
        again = second_moments(llama, corpus, [1], 4, 12, root=tmp_path / "s", progress=False)
    assert torch.equal(first[1].moment, again[1].moment) and "predates checksums" in caplog.text
    assert _cached(tmp_path)[1]["sha256"] == blob["sha256"], "upgraded in place"

    asymmetric = old["moment"].clone()
    asymmetric[0, 1] += 1.0
    torch.save(old | {"moment": asymmetric}, path)
    monkeypatch.setattr(moments, "accumulate", real)
    with caplog.at_level(logging.WARNING):
        again = second_moments(llama, corpus, [1], 4, 12, root=tmp_path / "s", progress=False)
    assert "not symmetric" in caplog.text and torch.equal(first[1].moment, again[1].moment)


def test_non_finite_moments_are_named_as_such_and_not_cached(llama, tmp_path, monkeypatch):
    from kedit.editing.values import NonFiniteError

    d = layer_module(llama.model, llama.arch, llama.arch.mlp_out, 1).weight.shape[1]
    monkeypatch.setattr(moments, "accumulate", lambda *a, **k: {1: (torch.full((d, d), float("inf"), dtype=torch.float64), 10)})
    with pytest.raises(NonFiniteError, match=r"second moments of model\.layers\.1\.mlp\.down_proj .* not finite in float32"):
        second_moments(llama, _corpus(tmp_path), [1], 4, 12, root=tmp_path / "s", progress=False)
    assert not list((tmp_path / "s").rglob("*.pt"))


def test_an_altered_checkpoint_is_not_resumed(tmp_path, caplog):
    ckpt = tmp_path / "partial.pt"
    moments._save_torch(ckpt, {"sums": {2: torch.eye(3, dtype=torch.float64)}, "count": 5, "next_window": 4})
    assert moments._load_partial(ckpt, [2]).next_window == 4
    blob = torch.load(ckpt, weights_only=True)
    blob["sums"][2][0, 0] = 7.0
    torch.save(blob, ckpt)
    with caplog.at_level(logging.WARNING):
        assert moments._load_partial(ckpt, [2]) is None
    assert f"partial statistics {ckpt} are unusable" in caplog.text and "checksum" in caplog.text


def test_a_cache_that_cannot_be_written_is_reported_and_the_values_used(llama, tmp_path, monkeypatch, caplog):
    import errno

    import kedit.util

    def full(tmp, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(kedit.util, "_commit", full)
    with caplog.at_level(logging.WARNING):
        got = second_moments(llama, _corpus(tmp_path), [1], 4, 12, root=tmp_path / "s", progress=False)
    assert got[1].count > 0 and "cannot write the statistics cache" in caplog.text and "No space left" in caplog.text


# --- precision: a bfloat16 moment is cached apart from a float32 one, never read as one --------------


def test_a_float32_key_names_and_stores_as_before_precisions_and_a_bfloat16_key_differs():
    f32 = StatsKey("f" * 40 + "é", "model.layers.4.mlp.down_proj", "c" * 64, 2000, 128, "float32")
    bf16 = StatsKey(*list(f32.to_dict().values()), precision="bfloat16")
    assert f32.precision == "float32" and f32.digest() == "fe17fd7ac0b6e61e62626908d4ae8c6c", "the name caches on disk already have"
    assert "precision" not in f32.to_dict(), "the key stored in a float32 file is the one files before precisions hold"
    assert bf16.to_dict() == f32.to_dict() | {"precision": "bfloat16"}
    assert bf16.digest() != f32.digest() and cache_path(bf16, Path("/c")) != cache_path(f32, Path("/c"))


@pytest.mark.parametrize(("first", "then"), [("bfloat16", "float32"), ("float32", "bfloat16")])
def test_a_moment_of_one_precision_is_never_read_as_the_other(llama, tmp_path, monkeypatch, caplog, first, then):
    corpus = _corpus(tmp_path)
    done = second_moments(llama, corpus, [1], 4, 12, root=tmp_path / "s", progress=False, precision=first)
    (path,) = (tmp_path / "s").rglob("*.pt")
    asked = []
    real = moments.accumulate
    monkeypatch.setattr(moments, "accumulate", lambda *a, precision, **k: asked.append(precision.name) or real(*a, precision=precision, **k))
    other = second_moments(llama, corpus, [1], 4, 12, root=tmp_path / "s", progress=False, precision=then)
    assert asked == [then] and other[1].key.precision == then, "computed, not read from the other precision's file"
    assert not torch.equal(other[1].moment, done[1].moment)
    assert len(list((tmp_path / "s").rglob("*.pt"))) == 2

    # a file of one precision put where the other's belongs is refused by its key and recomputed
    target = cache_path(other[1].key, tmp_path / "s")
    target.write_bytes(path.read_bytes())
    with caplog.at_level(logging.WARNING):
        again = second_moments(llama, corpus, [1], 4, 12, root=tmp_path / "s", progress=False, precision=then)
    assert f"statistics cache {target} is unusable (its key does not match)" in caplog.text
    assert asked == [then, then] and torch.equal(again[1].moment, other[1].moment)


def test_auto_is_resolved_before_the_key_is_made(llama, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"avx512_bf16": True})
    assert second_moments(llama, _corpus(tmp_path), [1], 4, 12, root=tmp_path / "s", progress=False, precision="auto")[1].key.precision == "bfloat16"
    monkeypatch.setattr(torch.cpu, "get_capabilities", dict)
    assert second_moments(llama, _corpus(tmp_path), [1], 4, 12, root=tmp_path / "s", progress=False, precision="auto")[1].key.precision == "float32"
