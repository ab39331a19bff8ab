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
from kedit.data.errors import DatasetPathError
from kedit.data.store import FILES, load_rows, write_dataset


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
