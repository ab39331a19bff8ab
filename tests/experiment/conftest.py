"""A small dataset and corpus, and a spec over the tiny model on disk (``tiny_model_dir``, tests/conftest.py) that runs in seconds."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.tiny import ROWS, SENTENCES


@pytest.fixture
def project(tmp_path, tiny_model_dir, monkeypatch):
    """A spec directory with data.jsonl, corpus.txt and spec.yaml; returns the spec path."""
    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path / "cache"))
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    (tmp_path / "corpus.txt").write_text("\n\n".join(SENTENCES * 3))
    spec = {
        "name": "tiny",
        "dataset": {"file": "data.jsonl"},
        "model": {"name": str(tiny_model_dir)},
        "statistics": {"corpus": [str(tmp_path / "corpus.txt")], "n_samples": 16, "max_length": 16},
        "runtime": {"progress": False},
        "hparams": {
            "MEMIT": {"layers": [1, 2], "v_num_grad_steps": 4, "context_tokens": 2, "mom2_update_weight": 10.0},
            "MEMIT-Merge": {"layers": [1, 2], "v_num_grad_steps": 4, "context_tokens": 2, "mom2_update_weight": 10.0},
        },
        "methods": [{"name": "MEMIT"}, {"name": "MEMIT-Merge"}],
        "batch_sizes": [2, 4],
        "metrics": ["efficacy", "paraphrase", "specificity", "akd"],
        "report": {"out": str(tmp_path / "reports")},
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path
