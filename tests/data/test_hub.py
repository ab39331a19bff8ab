"""kedit data push: repo id validation, the dry run, and everything up to the upload calls."""

from __future__ import annotations

import datasets
import huggingface_hub
import pytest

from kedit.data import hub
from kedit.data.builder import build_dataset
from kedit.data.errors import DataError, DatasetPathError
from kedit.data.store import write_dataset


@pytest.fixture(scope="module")
def directory(offline_client, tmp_path_factory):
    built = build_dataset({"endpoint": "offline", "seed": 2, "relations": {"sample": 4}}, offline_client)
    return write_dataset(built, tmp_path_factory.mktemp("push") / "ds")


@pytest.fixture
def uploads(monkeypatch):
    """Record the two upload calls instead of reaching the Hub."""
    calls = []

    def push_to_hub(self, repo_id, **kw):
        calls.append(("push_to_hub", repo_id, kw, {name: split.to_list() for name, split in self.items()}))

    def create_commit(self, repo_id, operations, **kw):
        calls.append(("create_commit", repo_id, kw, {op.path_in_repo: op.path_or_fileobj for op in operations}))

    monkeypatch.setattr(datasets.DatasetDict, "push_to_hub", push_to_hub)
    monkeypatch.setattr(huggingface_hub.HfApi, "create_commit", create_commit)
    return calls


@pytest.mark.parametrize("repo_id", ["noslash", "a/b/c", "/name", "org/", "org/na me", "org/-x", "org/x..y", "org/name."])
def test_bad_repo_id(directory, repo_id):
    with pytest.raises(DataError, match="not of the form ORG/NAME"):
        hub.push(directory, repo_id, dry_run=True)


def test_not_a_dataset_directory(tmp_path):
    with pytest.raises(DatasetPathError, match="missing README.md, spec.yaml"):
        hub.push(tmp_path, "org/name", dry_run=True)


def test_dry_run_prints_the_plan_and_uploads_nothing(directory, uploads):
    printed = []
    plan = hub.push(directory, "kedit/same-subject", private=True, dry_run=True, echo=printed.append)
    (text,) = printed
    assert uploads == []
    assert "dry run: nothing is uploaded" in text and "datasets/kedit/same-subject (private: yes)" in text
    assert "rows: 4 (split train)" in text and "neighborhood_prompts: List(" in text
    for path in ("data/train-00000-of-00001.parquet", "README.md", "spec.yaml", "fingerprint.json", "provenance.json"):
        assert f"  {path}  (" in text
    assert plan.rows == 4 and plan.private is True


def test_push_calls_push_to_hub_then_commits_the_card(directory, uploads):
    hub.push(directory, "kedit/same-subject", private=True, echo=lambda _: None)
    (name, repo_id, kw, splits), (name2, repo_id2, kw2, files) = uploads
    assert (name, repo_id, kw["private"]) == ("push_to_hub", "kedit/same-subject", True)
    assert list(splits) == ["train"] and len(splits["train"]) == 4
    assert (name2, repo_id2, kw2["repo_type"]) == ("create_commit", "kedit/same-subject", "dataset")
    assert sorted(files) == ["README.md", "fingerprint.json", "provenance.json", "spec.yaml"]
    card = files["README.md"].decode()
    assert "path: data/train-*" in card and "license: cc0-1.0" in card and "arXiv:2502.07322" in card
