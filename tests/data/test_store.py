"""Writing a dataset directory (byte-stable, loadable by `datasets`, with a card) and reading rows back."""

from __future__ import annotations

import json

import datasets
import pytest
import yaml
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard

from kedit.data import schema
from kedit.data.builder import build_dataset
from kedit.data.errors import DataError, DatasetFileError, DatasetPathError, DatasetWriteError
from kedit.data.store import FILES, load_rows, read_rows, write_dataset


@pytest.fixture(scope="module")
def built(offline_client):
    return build_dataset({"endpoint": "offline", "seed": 1, "relations": {"sample": 5}}, offline_client)


@pytest.fixture
def written(built, tmp_path):
    return write_dataset(built, tmp_path / "ds")


def test_writing_twice_gives_identical_bytes(built, tmp_path):
    a, b = write_dataset(built, tmp_path / "a"), write_dataset(built, tmp_path / "b")
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_the_directory_holds_exactly_the_files(written):
    """Every file is written through a temporary file beside it; none is left behind."""
    assert sorted(p.name for p in written.iterdir()) == sorted(FILES)


def test_datasets_load_the_directory(written, built, tmp_path):
    loaded = datasets.load_dataset(str(written), cache_dir=str(tmp_path / "hf"))
    train = loaded["train"]
    assert train.num_rows == 5 and train.to_list() == built.rows
    assert str(train.features["neighborhood_prompts"]) == "List({'prompt': Value('string'), 'target': Value('string')})"


def test_datasets_read_the_directory_as_its_card_declares(written, built, tmp_path, monkeypatch):
    """Offline, ``datasets.load_dataset(DIR)`` gives the splits the card's ``configs`` name, each
    from the file the card names, with the features its ``dataset_info`` declares."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    card = DatasetCard.load(written / "README.md")
    (config,) = MetadataConfigs.from_dataset_card_data(card.data).values()
    declared = DatasetInfosDict.from_dataset_card_data(card.data)["default"].features
    assert config["data_files"] == [{"split": "train", "path": "data.parquet"}] and declared == schema.features()
    loaded = datasets.load_dataset(str(written), cache_dir=str(tmp_path / "hf"))
    assert list(loaded) == ["train"] and loaded["train"].features == declared
    assert loaded["train"].info.builder_name == "parquet"  # data.parquet, as declared; data.jsonl is not read
    assert loaded["train"].to_list() == built.rows


def test_card_front_matter_and_citation(written):
    text = (written / "README.md").read_text()
    _, front, body = text.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["license"] == "cc0-1.0" and meta["pretty_name"] and meta["task_categories"]
    assert meta["configs"] == [{"config_name": "default", "data_files": [{"split": "train", "path": "data.parquet"}]}]
    assert [f["name"] for f in meta["dataset_info"]["features"]][:2] == ["case_id", "subject"]
    assert "arXiv:2502.07322" in body and "MEMIT-Merge" in body and "arXiv:2210.07229" in body
    assert "Fewer relations than asked" not in body
    assert "a seeded sample of 5 properties with item values used on instances of Q5" in " ".join(body.split())


def test_spec_and_fingerprint_files(written, built):
    spec = yaml.safe_load((written / "spec.yaml").read_text())
    assert spec == {"dataset": {"wikidata": built.spec}} and spec["dataset"]["wikidata"]["relations"]["sample"] == 5
    fingerprint = json.loads((written / "fingerprint.json").read_text())
    assert fingerprint["rows_sha256"] == built.fingerprint and fingerprint["rows"] == 5
    assert set(fingerprint["files"]) == {"data.parquet", "README.md", "spec.yaml", "provenance.json"}


def test_an_unwritable_directory_is_named(built, tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(DatasetWriteError, match=f"cannot write a dataset to {tmp_path / 'a-file' / 'ds'}: Not a directory"):
        write_dataset(built, tmp_path / "a-file" / "ds")
    (tmp_path / "ds" / "data.parquet").mkdir(parents=True)  # a folder where a file goes
    with pytest.raises(DatasetWriteError, match=f"cannot write {tmp_path / 'ds' / 'data.parquet'}: "):
        write_dataset(built, tmp_path / "ds")


def test_load_rows_from_every_local_form(written, built, tmp_path):
    assert load_rows(written) == built.rows
    assert load_rows(written / "data.jsonl") == built.rows
    assert load_rows(written / "data.parquet") == built.rows
    (tmp_path / "rows.json").write_text(json.dumps(built.rows))
    assert load_rows(tmp_path / "rows.json") == built.rows
    saved = tmp_path / "saved"
    datasets.Dataset.from_list(built.rows).save_to_disk(str(saved))
    assert load_rows(saved) == built.rows
    saved_dict = tmp_path / "saved_dict"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(built.rows)}).save_to_disk(str(saved_dict))
    assert load_rows(saved_dict) == built.rows


def test_load_rows_missing_path(tmp_path):
    with pytest.raises(DatasetPathError, match=f"dataset path {tmp_path / 'nope.jsonl'} does not exist"):
        load_rows(tmp_path / "nope.jsonl")


def test_load_rows_unknown_forms(tmp_path):
    (tmp_path / "rows.csv").write_text("a,b\n")
    with pytest.raises(DatasetPathError, match="unknown dataset file type '.csv'"):
        load_rows(tmp_path / "rows.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetPathError, match="holds neither data.jsonl nor a datasets save_to_disk"):
        load_rows(tmp_path / "empty")


# Malformed dataset files: each is a DataError that names the file and the line (or row),
# every bad line is listed (up to a limit), and nothing ends in a traceback.
ROW = {"subject": "S", "prompt": "{} is", "target_new": "x"}
LINE = json.dumps(ROW) + "\n"


@pytest.mark.parametrize("name, data, expected", [
    ("empty.json", b"", r"empty.json: empty file: no rows"),
    ("blank.json", b"  \n", r"blank.json: empty file: no rows"),
    ("empty.jsonl", b"\n\n", r"empty.jsonl: empty file: no rows"),
    ("none.json", b"[]", r"none.json: holds no rows"),
    ("broken.json", b'[{"a": 1},\n {"b": }]', r"broken.json:2:8: not valid JSON: Expecting value"),
    ("lines.json", (LINE * 2).encode(), r"lines.json:2:1: not valid JSON: Extra data \(one JSON value per line is JSON Lines: name the file \.jsonl\)"),
    ("garbage.parquet", b"PAR1 not parquet", r"garbage.parquet: not a readable parquet file"),
    ("binary.jsonl", bytes(range(256)), r"binary.jsonl: binary data \(a NUL byte at line 1\), not text"),
    ("latin1.jsonl", LINE.encode() + '{"subject": "José"}\n'.encode("latin-1"), r"latin1.jsonl:2:17: not UTF-8 text \(byte 0xe9\)"),
    ("scalar.json", b'"rows"', r"scalar.json: expected a JSON list of rows, got str"),
    ("items.json", json.dumps([ROW, 3, [ROW]]).encode(), r"2 bad rows in .*items.json:\n  .*items.json row 1: expected a JSON object \(a row\), got int"),
])
def test_a_malformed_file_is_named_with_its_line(tmp_path, name, data, expected):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DataError, match=expected):
        load_rows(tmp_path / name)


def test_every_bad_line_of_a_jsonl_file_is_named_up_to_a_limit(tmp_path):
    lines = [LINE, '{"subject": "X", oops\n', LINE, "[1, 2]\n", "\n"] + ["nope\n"] * 30 + [LINE]
    (tmp_path / "bad.jsonl").write_text("".join(lines))
    with pytest.raises(DatasetFileError) as err:
        load_rows(tmp_path / "bad.jsonl")
    path = tmp_path / "bad.jsonl"
    assert len(err.value.problems) == 32
    text = str(err.value)
    assert text.startswith(f"32 bad lines in {path}:\n")
    assert f"  {path}:2:18: not JSON: Expecting property name enclosed in double quotes" in text
    assert f"  {path}:4: expected a JSON object (a row), got list" in text
    assert f"{path}:6:1: not JSON: Expecting value" in text and "... and 12 more" in text


def test_utf8_with_a_bom_and_utf16_files_read_as_their_text(tmp_path):
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + (LINE * 2).encode())
    (tmp_path / "wide.json").write_bytes(json.dumps([ROW, ROW], ensure_ascii=False).encode("utf-16"))
    assert load_rows(tmp_path / "bom.jsonl") == load_rows(tmp_path / "wide.json") == [ROW, ROW]


def test_read_rows_locates_each_row_by_file_and_line(tmp_path):
    (tmp_path / "d.jsonl").write_text("\n" + LINE + "\n" + LINE)
    source = read_rows(tmp_path / "d.jsonl")
    assert source.rows == [ROW, ROW] and source.where(1) == f"{tmp_path / 'd.jsonl'}:4 (row 1)"
    (tmp_path / "d.json").write_text(json.dumps([ROW]))
    assert read_rows(tmp_path / "d.json").where(0) == f"{tmp_path / 'd.json'} row 0"


def test_an_unreadable_saved_dataset_is_named(tmp_path):
    (tmp_path / "saved").mkdir()
    (tmp_path / "saved" / "dataset_info.json").write_text("{not json")
    with pytest.raises(DataError, match=r"saved: not a readable `datasets` save_to_disk directory"):
        load_rows(tmp_path / "saved")
