"""Reusing a built dataset directory: the rows of a build, bit for bit; never on any difference
in the key; never from an altered, damaged or unreadable directory (the dataset is built
instead, and a warning names the directory)."""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
from importlib.resources import files
from pathlib import Path

import pytest
import yaml

from kedit.data import fingerprint
from kedit.data.builder import BuiltDataset, build_dataset
from kedit.data.config import WIKIDATA, as_dict, parse_config
from kedit.data.reuse import (
    ENV,
    READ_FROM,
    SHIPPED,
    build_or_reuse,
    candidates,
    find,
    search_path,
)
from kedit.data.store import write_dataset
from kedit.util import canonical_json, sha256

REPOSITORY = Path(__file__).resolve().parents[2] / "datasets"
NAMES = ["same_subject", "distinct_subject", "grouped_subject"]
SMALL = {"endpoint": "offline", "seed": 3, "relations": {"sample": 6}}


def shipped_section(name: str) -> dict:
    return yaml.safe_load((REPOSITORY / f"{name}.spec.yaml").read_text())["dataset"]["wikidata"]


def config(name: str = "same_subject", **changes):
    """The shipped set's config with ``changes`` (``"templates.edit": ...`` for a nested key)."""
    section = copy.deepcopy(shipped_section(name))
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = section
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return parse_config(section)


def rewrite(directory: Path, out: Path, spec: dict | None = None, **provenance) -> Path:
    """``directory``'s dataset written again under ``out`` by ``kedit data build``'s writer, with
    ``spec`` as its resolved section and ``provenance`` changed: a consistent directory (every
    file matches fingerprint.json) that records another key."""
    section = yaml.safe_load((directory / "spec.yaml").read_text())["dataset"]["wikidata"]
    recorded = json.loads((directory / "provenance.json").read_text()) | provenance
    rows = find(parse_config(section), [directory]).rows
    return write_dataset(BuiltDataset(rows, spec or section, recorded, sha256(rows)), out)


def refingerprinted(directory: Path, name: str, data: bytes) -> None:
    """Replace ``directory/name`` and record its new sha256 in fingerprint.json (a consistent forgery)."""
    (directory / name).write_bytes(data)
    recorded = json.loads((directory / fingerprint.NAME).read_text())
    recorded["files"][name] = fingerprint.digest(data)
    (directory / fingerprint.NAME).write_text(json.dumps(recorded))


@pytest.fixture(autouse=True)
def _no_search_path_from_the_environment(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)


@pytest.mark.parametrize("name", NAMES)
def test_a_reuse_gives_the_rows_of_a_build(name, offline_client):
    built = build_dataset(shipped_section(name), offline_client)
    reused = find(config(name))
    assert reused is not None and reused.provenance[READ_FROM] == str((REPOSITORY / name).resolve())
    assert canonical_json(reused.rows) == canonical_json(built.rows)
    assert [list(r) for r in reused.rows] == [list(r) for r in built.rows]  # field order too
    assert json.dumps(reused.rows) == json.dumps(built.rows)
    assert reused.fingerprint == built.fingerprint == sha256(reused.rows)
    assert reused.fingerprint == json.loads((REPOSITORY / name / fingerprint.NAME).read_text())["rows_sha256"]
    assert reused.spec == built.spec
    without = {k: v for k, v in reused.provenance.items() if k != READ_FROM}
    assert without == json.loads(json.dumps(built.provenance))  # the queries, counts and links of the build


def test_the_shipped_datasets_are_the_repositorys_and_an_installed_kedit_carries_them():
    assert SHIPPED.resolve() == REPOSITORY.resolve() and search_path() == [SHIPPED]
    assert list(candidates([SHIPPED])) == [SHIPPED / name for name in sorted(NAMES)]
    for name in NAMES:
        assert files("kedit").joinpath("datasets", name, "data.parquet").is_file()


def test_the_search_path_lists_the_environments_folders_first(monkeypatch, tmp_path, caplog):
    one = rewrite(REPOSITORY / "same_subject", tmp_path / "mine" / "same")
    monkeypatch.setenv(ENV, os.pathsep.join([str(tmp_path / "mine"), "", str(tmp_path / "absent"), str(one)]))
    assert search_path() == [tmp_path / "mine", tmp_path / "absent", one, SHIPPED]
    with caplog.at_level(logging.WARNING):
        assert list(candidates(search_path()))[:2] == [one, one]  # a folder of directories, and a directory
    assert f"cannot list {tmp_path / 'absent'}" in caplog.text
    assert find(config()).provenance[READ_FROM] == str(one.resolve())  # the first match wins


def test_a_directory_written_again_is_reused_from_its_new_place(tmp_path):
    """The control of the mismatch tests below: rewritten with no change, it is used."""
    out = rewrite(REPOSITORY / "same_subject", tmp_path / "copy")
    reused = find(config(), [out])
    assert reused.provenance[READ_FROM] == str(out.resolve())
    assert reused.fingerprint == find(config()).fingerprint


def test_snapshot_and_offline_name_the_same_snapshot():
    assert find(config(endpoint="snapshot")).rows == find(config(endpoint="offline")).rows


def test_a_build_from_a_server_is_never_reused():
    assert find(config(endpoint=WIKIDATA)) is None
    assert find(config(endpoint="http://127.0.0.1:1/query")) is None


CHANGES = [("seed", 1), ("templates.edit", "{subject} has {relation}"), ("split", "tune"), ("per_relation", 2),
           ("subjects.name", "Jane Doe"), ("relations.sample", 99), ("target", "counterfactual"), ("language", "de")]


@pytest.mark.parametrize("key, value", CHANGES)
def test_a_request_that_differs_in_any_setting_is_not_reused(key, value):
    assert find(config(**{key: value})) is None


@pytest.mark.parametrize("key, value", CHANGES)
def test_a_directory_built_with_any_other_setting_is_not_reused(key, value, tmp_path):
    other = as_dict(config(**{key: value}))
    out = rewrite(REPOSITORY / "same_subject", tmp_path / "other", spec=other)
    assert find(config(), [out]) is None
    assert find(config(**{key: value}), [out]) is not None  # it is a build of its own settings


@pytest.mark.parametrize("provenance", [{"kedit_version": "0.1.9"}, {"snapshot_sha256": "0" * 64},
                                        {"embedded": False, "endpoint": "http://127.0.0.1:1/query"},
                                        {"embedded": True, "snapshot_sha256": None}])
def test_a_directory_from_another_kedit_snapshot_or_endpoint_is_not_reused(provenance, tmp_path):
    out = rewrite(REPOSITORY / "same_subject", tmp_path / "other", **provenance)
    assert find(config(), [out]) is None


def test_a_newer_kedit_does_not_reuse_an_older_ones_directory(monkeypatch):
    monkeypatch.setattr("kedit.data.reuse.__version__", "9.9.9")
    assert find(config()) is None


def _flip_a_byte(d: Path) -> None:
    data = bytearray((d / "data.parquet").read_bytes())
    data[len(data) // 2] ^= 1
    (d / "data.parquet").write_bytes(bytes(data))


def _other_rows_sha256(d: Path) -> None:
    recorded = json.loads((d / fingerprint.NAME).read_text())
    (d / fingerprint.NAME).write_text(json.dumps(recorded | {"rows_sha256": "0" * 64}))


def _provenance_without_version(d: Path) -> None:
    recorded = json.loads((d / "provenance.json").read_text())
    refingerprinted(d, "provenance.json", json.dumps({k: v for k, v in recorded.items() if k != "kedit_version"}).encode())


TAMPERED = {
    "a byte of data.parquet": (_flip_a_byte, "data.parquet: changed since it was built"),
    "data.parquet not parquet, fingerprint.json updated": (
        lambda d: refingerprinted(d, "data.parquet", b"PAR1 not parquet"), "data.parquet: not a readable parquet file"),
    "rows other than fingerprint.json records": (_other_rows_sha256, "fingerprint.json records 100 rows with 0000"),
    "provenance.json deleted": (lambda d: (d / "provenance.json").unlink(), "missing provenance.json"),
    "fingerprint.json not JSON": (lambda d: (d / fingerprint.NAME).write_text("{"), "fingerprint.json: not JSON"),
    "spec.yaml not a spec, fingerprint.json updated": (
        lambda d: refingerprinted(d, "spec.yaml", b"dataset: 3\n"), "spec.yaml: not the resolved dataset.wikidata section"),
    "spec.yaml with an unknown key, fingerprint.json updated": (
        lambda d: refingerprinted(d, "spec.yaml", (d / "spec.yaml").read_bytes().replace(b"  wikidata:\n", b"  wikidata:\n    sed: 0\n")),
        "unknown key(s) 'sed'"),
    "provenance.json without the version, fingerprint.json updated": (
        _provenance_without_version, "provenance.json: does not say what built the rows"),
}


@pytest.mark.parametrize("what", TAMPERED)
def test_an_altered_or_damaged_directory_is_named_and_not_used(what, tmp_path, caplog):
    tamper, message = TAMPERED[what]
    copied = shutil.copytree(REPOSITORY / "same_subject", tmp_path / "same_subject")
    assert find(config(), [copied]) is not None  # the copy itself is used
    tamper(copied)
    with caplog.at_level(logging.WARNING, logger="kedit.data.reuse"):
        assert find(config(), [copied]) is None
    assert str(copied) in caplog.text and message in caplog.text
    assert "the dataset is built from the snapshot instead" in caplog.text


def test_a_damaged_directory_does_not_hide_a_later_good_one(tmp_path, caplog):
    copied = shutil.copytree(REPOSITORY / "same_subject", tmp_path / "same_subject")
    _flip_a_byte(copied)
    with caplog.at_level(logging.WARNING, logger="kedit.data.reuse"):
        reused = find(config(), [copied, REPOSITORY])
    assert reused.provenance[READ_FROM] == str((REPOSITORY / "same_subject").resolve())
    assert str(copied) in caplog.text and "instead" not in caplog.text


def test_any_snapshot_build_is_reused_and_a_damaged_one_is_built_again(offline_client, tmp_path, caplog):
    """Not only the shipped sets: a directory `kedit data build` wrote for any settings is read;
    damaged, the dataset is built again, with a warning, and gives the same rows."""
    built = build_dataset(SMALL, offline_client)
    out = write_dataset(built, tmp_path / "small")
    reused = build_or_reuse(SMALL, offline_client, [tmp_path])
    assert reused.provenance[READ_FROM] == str(out.resolve())
    assert (reused.rows, reused.fingerprint, reused.spec) == (built.rows, built.fingerprint, built.spec)
    _flip_a_byte(out)
    with caplog.at_level(logging.WARNING, logger="kedit.data.reuse"):
        again = build_or_reuse(SMALL, offline_client, [tmp_path])
    assert READ_FROM not in again.provenance and (again.rows, again.fingerprint) == (built.rows, built.fingerprint)
    assert f"{out}/data.parquet: changed since it was built" in caplog.text and "built from the snapshot instead" in caplog.text
