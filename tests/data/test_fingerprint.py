"""fingerprint.json: the sha256 of each published file, by name; a changed file changes it and is refused."""

from __future__ import annotations

import json

import pytest

from kedit.data import fingerprint
from kedit.data.builder import build_dataset
from kedit.data.errors import DatasetFileError
from kedit.data.store import write_dataset


@pytest.fixture(scope="module")
def written(offline_client, tmp_path_factory):
    built = build_dataset({"endpoint": "offline", "seed": 1, "relations": {"sample": 3}}, offline_client)
    return write_dataset(built, tmp_path_factory.mktemp("fp") / "ds")


def files_of(directory):
    return {name: (directory / name).read_bytes() for name in fingerprint.UPLOADED}


def test_it_hashes_what_is_published_by_name(written):
    recorded = json.loads((written / "fingerprint.json").read_text())
    assert list(recorded["files"]) == ["data.parquet", "README.md", "spec.yaml", "provenance.json"]
    assert "data.jsonl" not in recorded["files"] and "data_jsonl_sha256" not in recorded
    for name, digest in recorded["files"].items():
        assert digest == fingerprint.digest((written / name).read_bytes())
    assert fingerprint.check(written, files_of(written)) == recorded


@pytest.mark.parametrize("name", fingerprint.PUBLISHED)
def test_changing_a_published_file_changes_the_fingerprint(written, name):
    before = json.loads((written / "fingerprint.json").read_text())
    files = files_of(written)
    files[name] += b" "
    after = fingerprint.fingerprint(before["rows_sha256"], before["rows"], before["spec_sha256"], files)
    assert [n for n in fingerprint.PUBLISHED if after["files"][n] != before["files"][n]] == [name]
    with pytest.raises(DatasetFileError, match=f"{name}: changed since it was built"):
        fingerprint.check(written, files)


def test_data_jsonl_is_not_published(written):
    files = files_of(written)
    (written / "data.jsonl").write_text("anything\n")
    assert fingerprint.check(written, files)["rows"] == 3


@pytest.mark.parametrize("content,message", [
    (b"{not json", "not JSON"),
    (b'{"rows_sha256": "x", "rows": 3}', "written by an older kedit"),
    (b'["files"]', "written by an older kedit"),
])
def test_a_bad_fingerprint_file_is_named(written, content, message):
    files = files_of(written) | {"fingerprint.json": content}
    with pytest.raises(DatasetFileError, match=message) as err:
        fingerprint.check(written, files)
    assert str(written / "fingerprint.json") in str(err.value)
