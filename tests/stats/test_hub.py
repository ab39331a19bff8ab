"""Sharing statistics (``kedit stats push`` / ``pull``): a dry run, the upload call, and a
fingerprint check that refuses statistics of other weights."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from kedit.cli import main
from kedit.models import load_model


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
