"""Sharing statistics (``kedit stats push`` / ``pull``): a dry run, the upload call, a
fingerprint check that refuses statistics of other weights, and export/import through the cache layout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kedit.cli import main
from kedit.models import load_model
from kedit.stats.corpus import text_files
from kedit.stats.hub import StatsShareError, cached_files, export, import_files
from kedit.stats.moments import cache_path, second_moments


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


def test_cached_files_are_the_files_second_moments_wrote_for_that_model(tiny_model_dir, corpus_file, tmp_path):
    loaded = load_model(str(tiny_model_dir))
    stats = second_moments(loaded, text_files([str(corpus_file)]), [1, 2], 4, 12, root=tmp_path / "s", progress=False)
    assert cached_files(loaded.fingerprint, tmp_path / "s") == sorted(cache_path(s.key, tmp_path / "s") for s in stats.values())
    assert cached_files("0" * 64, tmp_path / "s") == [], "another model's folder is empty"


def test_export_then_import_puts_every_file_at_its_cache_path_with_a_card(tiny_model_dir, corpus_file, tmp_path):
    loaded = load_model(str(tiny_model_dir))
    stats = second_moments(loaded, text_files([str(corpus_file)]), [1, 2], 4, 12, root=tmp_path / "s", progress=False)
    keys = export(cached_files(loaded.fingerprint, tmp_path / "s"), "tiny", tmp_path / "out")
    assert sorted(keys, key=lambda k: k.module) == [stats[1].key, stats[2].key]
    assert "model.layers.2.mlp.down_proj" in (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    placed = import_files(tmp_path / "out", loaded.fingerprint, tmp_path / "elsewhere")
    assert sorted(placed) == sorted(cache_path(s.key, tmp_path / "elsewhere") for s in stats.values())
    for s in stats.values():
        assert cache_path(s.key, tmp_path / "elsewhere").read_bytes() == cache_path(s.key, tmp_path / "s").read_bytes()
    assert not list(tmp_path.rglob("*.tmp")), "copies are atomic and leave no temporary file"


def test_nothing_to_export_and_a_foreign_file_are_refused_by_name(tmp_path):
    with pytest.raises(StatsShareError, match="no statistics files to export"):
        export([], "tiny", tmp_path / "out")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(StatsShareError, match="junk.pt is not a kedit statistics file"):
        import_files(tmp_path / "in", "0" * 64, tmp_path / "cache")
    with pytest.raises(StatsShareError, match="holds no statistics files"):
        import_files(tmp_path / "out-empty", "0" * 64, tmp_path / "cache")


def test_an_altered_statistics_file_is_refused_on_import(tiny_model_dir, corpus_file, tmp_path):
    import torch

    loaded = load_model(str(tiny_model_dir))
    stats = second_moments(loaded, text_files([str(corpus_file)]), [1], 4, 12, root=tmp_path / "s", progress=False)
    (tmp_path / "in").mkdir()
    blob = torch.load(cache_path(stats[1].key, tmp_path / "s"), weights_only=True)
    torch.save(blob | {"moment": blob["moment"] * 2}, tmp_path / "in" / "altered.pt")
    with pytest.raises(StatsShareError, match="altered.pt: its content does not match its checksum"):
        import_files(tmp_path / "in", loaded.fingerprint, tmp_path / "cache")
