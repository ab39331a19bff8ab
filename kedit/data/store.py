"""Write a built dataset to a directory, and read rows back from any local form.

A dataset directory holds ``data.jsonl`` and ``data.parquet`` (the same rows),
``spec.yaml`` (``dataset.wikidata``, resolved: a spec ``kedit data build`` accepts),
``provenance.json``, the card ``README.md``, whose front matter makes
``datasets.load_dataset(DIR)`` read ``data.parquet`` as split ``train``, and
``fingerprint.json`` (:mod:`kedit.data.fingerprint`: the sha256 of each published file).
Every file but ``provenance.json`` (and its sha256 in ``fingerprint.json``) depends only on
the spec and the facts, so the same spec and snapshot give byte-identical files whichever
endpoint served them.
"""

from __future__ import annotations

import codecs
import io
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import datasets
import pyarrow as pa
import yaml

from kedit.data import fingerprint, parquet, schema
from kedit.data.builder import BuiltDataset
from kedit.data.card import render_card
from kedit.data.errors import DatasetFileError, DatasetPathError, DatasetWriteError
from kedit.util import WriteError, canonical_json, sha256, write_atomic

FILES = ("data.jsonl", "data.parquet", "spec.yaml", "fingerprint.json", "provenance.json", "README.md")


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def _parquet(rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    datasets.Dataset.from_list(rows, features=schema.features()).to_parquet(buffer)
    return buffer.getvalue()


def writable_directory(out: Path) -> Path:
    """Create ``out`` (and its parents) and check a file can be made in it; a path that cannot
    hold a dataset (a file in the way, no permission, a read-only disk) is a
    :class:`DatasetWriteError` naming it, before anything is built."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out, prefix=".kedit-write-check-"):
            pass
    except OSError as err:
        raise DatasetWriteError(f"cannot write a dataset to {out}: {err.strerror or err}") from None
    return out


def _contents(built: BuiltDataset) -> dict[str, bytes]:
    """The bytes of every file of :data:`FILES`, fingerprint.json last (it hashes the others)."""
    order = list(schema.fields())
    rows = [{name: row[name] for name in order} for row in built.rows]
    files = {
        "data.jsonl": _jsonl(rows).encode(),
        "data.parquet": _parquet(rows),
        "spec.yaml": yaml.safe_dump({"dataset": {"wikidata": built.spec}}, sort_keys=False, allow_unicode=True).encode(),
        "provenance.json": _json(built.provenance).encode(),
        "README.md": render_card(built.spec, built.provenance["counts"], rows).encode(),
    }
    files[fingerprint.NAME] = _json(fingerprint.fingerprint(
        built.fingerprint, len(rows), sha256(canonical_json(built.spec)), files)).encode()
    return files


def write_dataset(built: BuiltDataset, out: Path | str) -> Path:
    """Write every file of :data:`FILES` under ``out`` (created); return ``out``. Each file is
    written atomically (a reader sees the old file or the new one, never half of one); a
    file that cannot be written is a :class:`DatasetWriteError` naming it."""
    out = writable_directory(Path(out))
    for name, data in _contents(built).items():
        try:
            write_atomic(out / name, data)
        except WriteError as err:
            raise DatasetWriteError(f"cannot write {err.filename}: {err.strerror}") from None
    return out


@dataclass
class RowFile:
    """Rows read from a dataset path and where each one came from: ``lines[i]`` is the line
    of row ``i`` in a JSON Lines file (None for other forms), so errors can name it."""

    path: Path
    rows: list[dict]
    lines: list[int] | None = None

    def where(self, i: int) -> str:
        """``data.jsonl:12 (row 10)``, or ``rows.json row 10``: row ``i`` for a message."""
        return f"{self.path}:{self.lines[i]} (row {i})" if self.lines else f"{self.path} row {i}"


#: Byte-order marks of the Unicode encodings a JSON text may come in (RFC 8259 §8.1; PowerShell's
#: ``>`` writes UTF-16): the mark names the encoding unambiguously, so such a file is read as its text.
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise DatasetPathError(f"{path}: cannot read: {err.strerror or err}") from None


def _not_utf8(path: Path, data: bytes) -> list[str]:
    """Each line holding bytes that are not UTF-8, with the column and the first such byte."""
    problems = []
    for n, raw in enumerate(data.split(b"\n"), 1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as err:
            column = len(raw[: err.start].decode("utf-8", "replace")) + 1
            problems.append(f"{path}:{n}:{column}: not UTF-8 text (byte 0x{raw[err.start]:02x}); save the file as UTF-8")
    return problems


def _text(path: Path) -> str:
    """The file's text: UTF-8, or the Unicode encoding its byte-order mark names. Binary data
    (a NUL byte) and bytes that are not UTF-8 are a :class:`DatasetFileError` naming the line;
    so is a file with nothing but white space."""
    data = _read_bytes(path)
    bom, encoding = next(((bom, enc) for bom, enc in BOMS if data.startswith(bom)), (b"", "utf-8"))
    if encoding != "utf-8":
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as err:
            raise DatasetFileError(f"{path}: not {encoding.upper()} text although it begins with that byte-order mark ({err.reason} at byte {err.start})") from None
    else:
        data = data[len(bom):]
        if b"\0" in data:
            line = data[: data.index(b"\0")].count(b"\n") + 1
            raise DatasetFileError(f"{path}: binary data (a NUL byte at line {line}), not text")
        if problems := _not_utf8(path, data):
            raise DatasetFileError(problems, f"lines that are not UTF-8 text in {path}")
        text = data.decode("utf-8")
    if not text.strip():
        raise DatasetFileError(f"{path}: empty file: no rows")
    return text


def _not_a_row(value, where: str) -> list[str]:
    """``[why]`` when ``value`` is not a row (a JSON object), else ``[]``."""
    return [] if isinstance(value, dict) else [f"{where}: expected a JSON object (a row), got {type(value).__name__}"]


def _read_jsonl(path: Path) -> RowFile:
    rows, lines, problems = [], [], []
    # split on "\n" alone: str.splitlines would also cut at U+2028 and other characters a JSON string may hold
    for n, line in enumerate(_text(path).split("\n"), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            problems.append(f"{path}:{n}:{err.colno}: not JSON: {err.msg}")
            continue
        problems += _not_a_row(value, f"{path}:{n}")
        rows.append(value)
        lines.append(n)
    if problems:
        raise DatasetFileError(problems, f"bad lines in {path}")
    return RowFile(path, rows, lines)


def _read_json(path: Path) -> RowFile:
    try:
        rows = json.loads(_text(path))
    except json.JSONDecodeError as err:
        hint = " (one JSON value per line is JSON Lines: name the file .jsonl)" if err.msg == "Extra data" else ""
        raise DatasetFileError(f"{path}:{err.lineno}:{err.colno}: not valid JSON: {err.msg}{hint}") from None
    if not isinstance(rows, list):
        raise DatasetFileError(f"{path}: expected a JSON list of rows, got {type(rows).__name__}")
    problems = [why for i, row in enumerate(rows) for why in _not_a_row(row, f"{path} row {i}")]
    if problems:
        raise DatasetFileError(problems, f"bad rows in {path}")
    return RowFile(path, rows)


def _read_parquet(path: Path) -> RowFile:
    return RowFile(path, parquet.read_table(path).to_pylist())


def _read_saved(path: Path) -> RowFile:
    try:
        saved = datasets.load_from_disk(str(path))
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as err:
        raise DatasetFileError(f"{path}: not a readable `datasets` save_to_disk directory ({type(err).__name__}: {err})") from None
    if isinstance(saved, datasets.DatasetDict):
        if len(saved) != 1 and "train" not in saved:
            raise DatasetPathError(f"{path}: a DatasetDict with splits {sorted(saved)}; expected one split or 'train'")
        saved = saved["train"] if "train" in saved else next(iter(saved.values()))
    return RowFile(path, saved.to_list())


#: File suffix → reader.
READERS = {".jsonl": _read_jsonl, ".json": _read_json, ".parquet": _read_parquet}
#: A file whose presence marks a kind of dataset directory → reader of the directory.
DIRECTORY_MARKERS = {"data.jsonl": lambda d: _read_jsonl(d / "data.jsonl"),
                     "dataset_dict.json": _read_saved, "dataset_info.json": _read_saved}


def read_rows(path: Path | str) -> RowFile:
    """The rows of a JSONL/JSON/parquet file, a directory written by :func:`write_dataset`, or
    a ``datasets`` ``save_to_disk`` directory, with where each came from. A path that is not
    there or not a dataset is a :class:`DatasetPathError`; content that is not rows a
    :class:`DatasetFileError` naming every bad line or row (the first 20 in its message)."""
    path = Path(path)
    if not path.exists():
        raise DatasetPathError(f"dataset path {path} does not exist")
    if path.is_dir():
        for marker, reader in DIRECTORY_MARKERS.items():
            if (path / marker).exists():
                source = reader(path)
                break
        else:
            raise DatasetPathError(f"directory {path} holds neither data.jsonl nor a datasets save_to_disk dataset")
    else:
        reader = READERS.get(path.suffix)
        if reader is None:
            raise DatasetPathError(f"{path}: unknown dataset file type {path.suffix!r}; known: {', '.join(READERS)}")
        source = reader(path)
    if not source.rows:
        raise DatasetFileError(f"{source.path}: holds no rows")
    return source


def load_rows(path: Path | str) -> list[dict]:
    """The rows of :func:`read_rows`."""
    return read_rows(path).rows
