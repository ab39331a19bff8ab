"""kedit data push: the one commit (against a fake HfApi), the dry run, and every refusal
(bad repo id, a directory that is not a built dataset or was edited since, offline, no
token, the Hub refusing) as a named error with nothing uploaded."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner
from huggingface_hub import CommitOperationAdd
from huggingface_hub import constants as hub_constants

from kedit.data import fingerprint, hub
from kedit.data.builder import build_dataset
from kedit.data.cli import data
from kedit.data.errors import DatasetFileError, DatasetPathError, PublishError
from kedit.data.store import write_dataset

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built_dir(offline_client, tmp_path_factory):
    built = build_dataset({"endpoint": "offline", "seed": 2, "relations": {"sample": 4}}, offline_client)
    return write_dataset(built, tmp_path_factory.mktemp("push") / "ds")


@pytest.fixture
def directory(built_dir, tmp_path):
    """A fresh copy of the built directory, for a test to edit."""
    return Path(shutil.copytree(built_dir, tmp_path / "ds"))


class FakeApi:
    """Records what ``push`` asks of the Hub instead of reaching it."""

    calls: ClassVar[list[tuple]] = []

    def __init__(self, token=None):
        self.calls.append(("init", token))

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", repo_id, kw))

    def create_commit(self, repo_id, operations, **kw):
        self.calls.append(("create_commit", repo_id, list(operations), kw))
        return type("CommitInfo", (), {"commit_url": f"https://huggingface.co/datasets/{repo_id}/commit/abc"})()


@pytest.fixture
def online(monkeypatch):
    """Online with a token, every Hub call going to :class:`FakeApi`; yields its calls."""
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    monkeypatch.setattr(FakeApi, "calls", [])
    monkeypatch.setattr(hub, "HfApi", FakeApi)
    return FakeApi.calls


def test_push_makes_one_commit_with_every_published_file(directory, online):
    printed = []
    hub.push(directory, "kedit/same-subject", private=True, echo=printed.append)
    assert [c[0] for c in online] == ["init", "create_repo", "create_commit"]  # exactly one commit
    assert online[0] == ("init", "hf_test_token")
    assert online[1] == ("create_repo", "kedit/same-subject", {"repo_type": "dataset", "private": True, "exist_ok": True})
    _, repo_id, operations, kw = online[2]
    assert repo_id == "kedit/same-subject" and kw["repo_type"] == "dataset"
    assert all(isinstance(op, CommitOperationAdd) for op in operations)
    uploaded = {op.path_in_repo: op.path_or_fileobj for op in operations}
    assert list(uploaded) == ["data.parquet", "README.md", "spec.yaml", "provenance.json", "fingerprint.json"]
    assert all(uploaded[name] == (directory / name).read_bytes() for name in uploaded)
    assert "data.jsonl" not in uploaded
    assert printed == ["pushed 4 rows in one commit: https://huggingface.co/datasets/kedit/same-subject/commit/abc"]


def test_dry_run_lists_paths_sizes_and_sha256_and_uploads_nothing(directory, online):
    printed = []
    plan = hub.push(directory, "kedit/same-subject", private=True, dry_run=True, echo=printed.append)
    (text,) = printed
    assert online == []
    assert "dry run: nothing is uploaded" in text and "datasets/kedit/same-subject (private: yes" in text
    assert "one commit, 5 files, 4 rows in split train" in text
    for name in fingerprint.UPLOADED:
        data = (directory / name).read_bytes()
        assert f"  {name}  {len(data):,} bytes  sha256 {fingerprint.digest(data)}" in text
    assert plan.rows == 4 and plan.private is True


@pytest.mark.parametrize("repo_id", ["noslash", "a/b/c", "/name", "org/", "org/na me", "org/-x", "org/x..y", "org/name."])
def test_bad_repo_id(directory, online, repo_id):
    with pytest.raises(PublishError, match="not of the form ORG/NAME"):
        hub.push(directory, repo_id)
    assert online == []


def test_not_a_dataset_directory(tmp_path):
    with pytest.raises(DatasetPathError, match="missing data.parquet, README.md, spec.yaml, provenance.json, fingerprint.json"):
        hub.push(tmp_path, "org/name", dry_run=True)


def test_a_directory_missing_its_parquet_is_refused(directory, online):
    (directory / "data.parquet").unlink()
    with pytest.raises(DatasetPathError, match=r"missing data\.parquet$"):
        hub.push(directory, "org/name")
    assert online == []


@pytest.mark.parametrize("name", fingerprint.PUBLISHED)
def test_a_file_changed_after_the_build_is_refused(directory, online, name):
    path = directory / name
    path.write_bytes(path.read_bytes() + b"\n")
    with pytest.raises(DatasetFileError, match=f"{name}: changed since it was built \\(sha256 "):
        hub.push(directory, "org/name")
    assert online == []


def test_an_old_fingerprint_without_file_hashes_is_refused(directory):
    (directory / "fingerprint.json").write_text(json.dumps({"rows_sha256": "x", "rows": 4, "data_jsonl_sha256": "y"}))
    with pytest.raises(DatasetFileError, match="written by an older kedit; rebuild"):
        hub.push(directory, "org/name", dry_run=True)


def test_offline_is_refused_before_any_hub_call(directory, online, monkeypatch):
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(PublishError, match="HF_HUB_OFFLINE is set"):
        hub.push(directory, "org/name")
    assert online == []


# Through the command line: exit 2, a message naming the cause, no traceback, nothing uploaded.

def test_cli_offline_exits_2_without_a_traceback(built_dir, tmp_path):
    """A real process started with HF_HUB_OFFLINE=1 (the variable is read when huggingface_hub loads)."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "HF_TOKEN": "hf_test_token",
           "HF_HOME": str(tmp_path / "hf"), "KEDIT_CACHE": str(tmp_path / "kedit")}
    result = subprocess.run([sys.executable, "-m", "kedit.cli", "data", "push", str(built_dir), "--repo-id", "org/name"],
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 2, result.stderr
    assert "HF_HUB_OFFLINE is set" in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_cli_without_a_token_exits_2(built_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(data, ["push", str(built_dir), "--repo-id", "org/name"])
    assert result.exit_code == 2 and "no Hugging Face token: set HF_TOKEN" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


class Refusing(BaseHTTPRequestHandler):
    """A loopback "Hub" that answers every request 403 and records its paths."""

    paths: ClassVar[list[str]] = []

    def log_message(self, *args):
        pass

    def _refuse(self):
        self.paths.append(f"{self.command} {self.path}")
        body = json.dumps({"error": "You don't have the rights to create a dataset under the namespace org"}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _refuse


@pytest.fixture
def refusing_hub(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(Refusing, "paths", [])
    monkeypatch.setattr(hub_constants, "ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    yield Refusing.paths
    server.shutdown()
    server.server_close()


def test_cli_when_the_hub_refuses_exits_2_and_commits_nothing(built_dir, refusing_hub):
    result = CliRunner().invoke(data, ["push", str(built_dir), "--repo-id", "org/name"])
    assert result.exit_code == 2, result.output
    assert "the Hub did not take the commit to datasets/org/name" in result.output and "nothing was committed" in result.output
    assert refusing_hub and not any("/commit/" in path or "/preupload/" in path for path in refusing_hub)


def test_cli_bad_inputs_exit_2(directory, tmp_path):
    (directory / "data.parquet").unlink()
    missing = CliRunner().invoke(data, ["push", str(directory), "--repo-id", "org/name", "--dry-run"])
    assert missing.exit_code == 2 and "missing data.parquet" in missing.output
    bad_id = CliRunner().invoke(data, ["push", str(directory), "--repo-id", "a/b/c"])
    assert bad_id.exit_code == 2 and "'a/b/c' is not of the form ORG/NAME" in bad_id.output
