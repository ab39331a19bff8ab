"""Reading a report.json back (``kedit report``, ``kedit diff``): every way it can be unusable
is a :class:`ReportError` that names the file and the place (a line, or a JSON pointer)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from kedit.experiment.cell import CellRecord
from kedit.spec.schema import REPORT_SCHEMA_FILE, load_schema


class ReportError(ValueError):
    """A report that cannot be read or used; the message names the file (exit code 2)."""


def report_file(path: Path) -> Path:
    """A report directory's report.json, or ``path`` itself."""
    return path / "report.json" if path.is_dir() else path


def read_json(path: Path) -> dict:
    """The JSON object in a report directory's report.json (or in ``path``), unchecked."""
    file = report_file(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{file}: no such file (a report directory holds report.json)") from None
    except OSError as e:
        raise ReportError(f"{file}: cannot read it: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ReportError(f"{file}: not UTF-8 text (byte {e.start}): not a report.json") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReportError(f"{file}:{e.lineno}:{e.colno}: not JSON: {e.msg}") from None
    if not isinstance(data, dict):
        raise ReportError(f"{file}: a report is a JSON object, this is a JSON {type(data).__name__}")
    return data


def check_report(data: dict, file: Path) -> list[CellRecord]:
    """Check ``data`` against schemas/report.schema.json; return its cells as records."""
    schema = load_schema(REPORT_SCHEMA_FILE)
    readable = schema["properties"]["report_format"]["enum"]
    if "report_format" in data and data["report_format"] not in readable:  # missing: the schema says so
        raise ReportError(f"{file}: report format {data.get('report_format')!r}; this kedit reads formats {', '.join(map(str, readable))}")
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if error is not None:
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
        raise ReportError(f"{file}: {where}: {message} (does not match {REPORT_SCHEMA_FILE})")
    cells = []
    for i, cell in enumerate(data["cells"]):
        try:
            cells.append(CellRecord.from_dict(cell))
        except TypeError as e:  # a key the schema allows but this kedit's records do not know
            raise ReportError(f"{file}: /cells/{i}: {e}") from None
    return cells


def read_report(path: Path) -> dict:
    """A report directory's report.json (or ``path``), checked against the report schema."""
    data = read_json(path)
    check_report(data, report_file(path))
    return data
