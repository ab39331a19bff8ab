"""Write a built dataset to a directory, and read rows back from any local form.

A dataset directory holds ``data.jsonl`` and ``data.parquet`` (the same rows),
``spec.yaml`` (``dataset.wikidata``, resolved: a spec ``kedit data build`` accepts),
``fingerprint.json``, ``provenance.json`` and the card ``README.md``, whose front matter
makes ``datasets.load_dataset(DIR)`` read ``data.parquet`` as split ``train``. Every file
but ``provenance.json`` depends only on the spec and the facts, so the same spec and
snapshot give byte-identical files whichever endpoint served them.
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import yaml

from kedit.data import schema
from kedit.data.builder import BuiltDataset
from kedit.data.card import render_card
from kedit.data.errors import DatasetPathError
from kedit.util import atomic_path, canonical_json, sha256, write_atomic

FILES = ("data.jsonl", "data.parquet", "spec.yaml", "fingerprint.json", "provenance.json", "README.md")


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def write_dataset(built: BuiltDataset, out: Path | str) -> Path:
    """Write every file of :data:`FILES` under ``out`` (created); return ``out``. Each file is
    written atomically (a reader sees the old file or the new one, never half of one)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    order = list(schema.fields())
    rows = [{name: row[name] for name in order} for row in built.rows]
    jsonl = _jsonl(rows)
    spec_text = yaml.safe_dump({"dataset": {"wikidata": built.spec}}, sort_keys=False, allow_unicode=True)
    fingerprint = {
        "rows_sha256": built.fingerprint,
        "rows": len(rows),
        "spec_sha256": sha256(canonical_json(built.spec)),
        "data_jsonl_sha256": sha256(jsonl),
    }
    write_atomic(out / "data.jsonl", jsonl)
    with atomic_path(out / "data.parquet") as tmp:
        datasets.Dataset.from_list(rows, features=schema.features()).to_parquet(str(tmp))
    write_atomic(out / "spec.yaml", spec_text)
    write_atomic(out / "fingerprint.json", _json(fingerprint))
    write_atomic(out / "provenance.json", _json(built.provenance))
    write_atomic(out / "README.md", render_card(built.spec, built.provenance["counts"], rows))
    return out


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _read_json(path: Path) -> list[dict]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(rows, list):
        raise DatasetPathError(f"{path}: expected a JSON list of rows")
    return rows


def _read_parquet(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def _read_saved(path: Path) -> list[dict]:
    saved = datasets.load_from_disk(str(path))
    if isinstance(saved, datasets.DatasetDict):
        if len(saved) != 1 and "train" not in saved:
            raise DatasetPathError(f"{path}: a DatasetDict with splits {sorted(saved)}; expected one split or 'train'")
        saved = saved["train"] if "train" in saved else next(iter(saved.values()))
    return saved.to_list()


#: File suffix → reader.
READERS = {".jsonl": _read_jsonl, ".json": _read_json, ".parquet": _read_parquet}
#: A file whose presence marks a kind of dataset directory → reader of the directory.
DIRECTORY_MARKERS = {"data.jsonl": lambda d: _read_jsonl(d / "data.jsonl"),
                     "dataset_dict.json": _read_saved, "dataset_info.json": _read_saved}


def load_rows(path: Path | str) -> list[dict]:
    """Rows from a JSONL/JSON/parquet file, a directory written by :func:`write_dataset`, or a
    ``datasets`` ``save_to_disk`` directory."""
    path = Path(path)
    if not path.exists():
        raise DatasetPathError(f"dataset path {path} does not exist")
    if path.is_dir():
        for marker, reader in DIRECTORY_MARKERS.items():
            if (path / marker).exists():
                return reader(path)
        raise DatasetPathError(f"directory {path} holds neither data.jsonl nor a datasets save_to_disk dataset")
    reader = READERS.get(path.suffix)
    if reader is None:
        raise DatasetPathError(f"{path}: unknown dataset file type {path.suffix!r}; known: {', '.join(READERS)}")
    return reader(path)
