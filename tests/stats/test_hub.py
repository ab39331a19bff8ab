"""``kedit stats``: resumable and distributed computation, and sharing with a fingerprint check."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from kedit.cli import main
from kedit.stats.corpus import Corpus, text_files
from kedit.stats import moments as stats_mod
from kedit.models import load_model
from tests.tiny import SENTENCES


@pytest.fixture
def corpus_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n\n".join(SENTENCES * 4))
    return path


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


def test_two_processes_under_torchrun_give_the_single_process_statistics(tmp_path, tiny_model_dir, corpus_file):
    args = ["stats", "compute", str(tiny_model_dir), "--layers", "1,3", "--corpus", str(corpus_file), "--n-samples", "24"]
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
        torch.testing.assert_close(a[module][0], b[module][0], rtol=1e-5, atol=1e-7)
    assert len(list(double.rglob("*.pt"))) == 2, "written once, by rank 0, and no partial file left behind"


class _Interrupt(Exception):
    pass


def test_an_interrupted_pass_resumes_from_its_checkpoint(tmp_path, tiny_model_dir, corpus_file, monkeypatch):
    loaded = load_model(str(tiny_model_dir))
    full = text_files([str(corpus_file)])
    n = len(list(stats_mod.windows(loaded.tokenizer, full, 16)))
    reference = stats_mod.accumulate(loaded, full, [2], n, 16, batch_size=2, progress=False)

    paragraphs = list(full.texts())

    def dying():  # the corpus stream breaks a third of the way, as a killed job would
        for i, p in enumerate(paragraphs):
            if i == len(paragraphs) // 3:
                raise _Interrupt
            yield p

    broken = Corpus(name=full.name, fingerprint=full.fingerprint, read=dying)
    ckpt = tmp_path / "partial.pt"
    with pytest.raises(_Interrupt):
        stats_mod.accumulate(loaded, broken, [2], n, 16, batch_size=2, progress=False, checkpoint=ckpt, checkpoint_every=1)
    saved = torch.load(ckpt, weights_only=True)["next_window"]
    assert 0 < saved < n

    forwards = []
    loaded.model.register_forward_pre_hook(lambda m, a, k: forwards.append(1), with_kwargs=True)
    resumed = stats_mod.accumulate(loaded, full, [2], n, 16, batch_size=2, progress=False, checkpoint=ckpt, checkpoint_every=1)
    assert len(forwards) == -(-(n - saved) // 2), "only the windows after the checkpoint are computed again"
    assert resumed[2][1] == reference[2][1]
    torch.testing.assert_close(resumed[2][0], reference[2][0], rtol=1e-9, atol=1e-9)


def test_push_dry_run_and_upload_call_and_pull_refuses_other_weights(tmp_path, tiny_model_dir, corpus_file, monkeypatch):
    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path / "cache"))
    runner = CliRunner()
    res = runner.invoke(main, ["stats", "compute", str(tiny_model_dir), "--layers", "1", "--corpus", str(corpus_file), "--n-samples", "8"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["stats", "push", str(tiny_model_dir), "--repo-id", "kedit-tests/tiny-stats", "--dry-run"])
    assert res.exit_code == 0 and "would upload to dataset repo kedit-tests/tiny-stats" in res.output and "README.md" in res.output

    calls = {}
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", lambda self, repo_id, **kw: calls.setdefault("create", (repo_id, kw)))
    def upload(self, folder_path, repo_id, **kw):
        calls["upload"] = (repo_id, sorted(os.listdir(folder_path)), Path(folder_path, "README.md").read_text())
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload)
    res = runner.invoke(main, ["stats", "push", str(tiny_model_dir), "--repo-id", "kedit-tests/tiny-stats", "--private"])
    assert res.exit_code == 0, res.output
    assert calls["create"] == ("kedit-tests/tiny-stats", {"repo_type": "dataset", "private": True, "exist_ok": True})
    repo, files, readme = calls["upload"]
    assert "README.md" in files and any(f.endswith(".pt") for f in files)
    loaded = load_model(str(tiny_model_dir))
    assert loaded.fingerprint in readme and "model.layers.1.mlp.down_proj" in readme

    shared = tmp_path / "shared"
    shared.mkdir()
    for f in (tmp_path / "cache" / "stats").rglob("*.pt"):
        (shared / f.name).write_bytes(f.read_bytes())
    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path / "other-cache"))
    res = runner.invoke(main, ["stats", "pull", str(shared), "--model", str(tiny_model_dir)])
    assert res.exit_code == 0 and "imported 1" in res.output

    other = tmp_path / "other-model"
    from tests.tiny import make_tiny

    alt = make_tiny("llama", loaded.tokenizer, seed=1)
    alt.model.save_pretrained(other)
    alt.tokenizer.save_pretrained(other)
    res = runner.invoke(main, ["stats", "pull", str(shared), "--model", str(other)])
    assert res.exit_code == 2 and "refusing it" in res.output
    res = runner.invoke(main, ["stats", "pull", "not a repo", "--model", str(other)])
    assert res.exit_code == 2 and "not of the form ORG/NAME" in res.output
