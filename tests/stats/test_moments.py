"""Second moments: correct, cached, atomic, and rebuilt when the cache is damaged."""

from __future__ import annotations

import logging

import torch

from kedit.stats.corpus import text_files
from kedit.stats import moments as stats
from kedit.stats.moments import second_moments, windows
from kedit.models.architecture import layer_module
from kedit.models.hooks import record

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
    torch.testing.assert_close(got[3].moment.double(), k.T @ k / len(k), rtol=1e-5, atol=1e-6)
    assert got[3].count == len(k) == sum(len(w) for w in wins)


def test_a_second_run_reads_the_cache(tiny, tmp_path, monkeypatch):
    corpus = _corpus(tmp_path)
    first = second_moments(tiny, corpus, [1], 4, 12, root=tmp_path / "s", progress=False)
    monkeypatch.setattr(stats, "accumulate", lambda *a, **k: (_ for _ in ()).throw(AssertionError("recomputed")))
    again = second_moments(tiny, corpus, [1], 4, 12, root=tmp_path / "s", progress=False)
    assert torch.equal(first[1].moment, again[1].moment)
    assert not list((tmp_path / "s").rglob("tmp-*")), "no temporary file is left behind"


def test_a_different_sample_count_is_a_different_cache_entry(tiny, tmp_path):
    corpus = _corpus(tmp_path)
    a = second_moments(tiny, corpus, [1], 2, 12, root=tmp_path / "s", progress=False)
    b = second_moments(tiny, corpus, [1], 4, 12, root=tmp_path / "s", progress=False)
    assert a[1].count < b[1].count
    assert len(list((tmp_path / "s").rglob("*.pt"))) == 2


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
