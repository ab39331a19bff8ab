"""Row formats of edit files: the records researchers already have, as kedit's rows.

``dataset.file`` may hold kedit's own rows (``kedit data build``; the fields of
:class:`kedit.editing.requests.EditRequest`) or one of the formats of the benchmark files
the locate-and-edit literature uses:

- ``counterfact``: ROME/MEMIT's CounterFact records: ``requested_rewrite`` with ``prompt``
  (``{}`` for the subject), ``subject``, ``target_new.str``, ``target_true.str``,
  ``relation_id``; ``paraphrase_prompts``; ``neighborhood_prompts``. The neighbourhood
  prompts' subjects share the true object, so a prompt given as a string is checked against
  ``target_true``, as ROME's evaluation does (``{prompt, target}`` pairs are kept as given).
- ``zsre``: the zsRE question records of MEND's evaluation set (``src``, ``subject``,
  ``alt``, ``answers``, ``rephrase``, ``loc``, ``loc_ans``). The edit teaches ``alt`` with
  ``answers[0]`` as the true answer, as EasyEdit does (MEMIT's own loader teaches
  ``answers[0]``); records with an empty ``alt`` are skipped, as EasyEdit skips them.
- ``easyedit``: EasyEdit's flat edit records (``prompt``, ``subject``, ``target_new``,
  ``ground_truth``, ``rephrase_prompt`` or ``rephrase``, ``locality_prompt`` with
  ``locality_ground_truth``); prompts, rephrasings and locality entries may be strings
  or lists.

``auto`` (the default) names the format from the first row's keys; every row must then be
in that format. A row that lacks a field of its format is named with its index.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from kedit.data.errors import RowsError
from kedit.registry import Registry


class RowFormatError(RowsError):
    """Rows that do not fit their file's format; the message names each row and field."""


@dataclass(frozen=True)
class RowFormat:
    """``detect(row)``: whether a row is in this format (None for :data:`NATIVE`);
    ``convert(row)``: kedit's fields, or None to skip the row."""

    detect: Callable[[Mapping], bool] | None
    convert: Callable[[Mapping], dict | None]


FORMATS: Registry[RowFormat] = Registry("row format")
NATIVE = "kedit"  # the format of rows no other format claims


def _field(row: Mapping, dotted: str):
    """A required field, ``"a.b"`` for ``row["a"]["b"]``."""
    value = row
    for key in dotted.split("."):
        if not isinstance(value, Mapping) or key not in value:
            raise RowFormatError(f"missing field {dotted!r}")
        value = value[key]
    return value


def _case_id(row: Mapping) -> dict:
    """The record's ``case_id``, carried to reports as request metadata."""
    return {"case_id": row["case_id"]} if "case_id" in row else {}


def _strings(value, where: str) -> list[str]:
    """A string or a list of strings, as a list."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise RowFormatError(f"{where}: expected a string or a list of strings, got {value!r}")
    return items


def _list(row: Mapping, key: str) -> list:
    """An optional list field (a string there would be read letter by letter)."""
    value = row.get(key) or []
    if not isinstance(value, list):
        raise RowFormatError(f"{key}: expected a list, got {value!r}")
    return value


FORMATS.add(NATIVE, RowFormat(detect=None, convert=dict))


def _counterfact(row: Mapping) -> dict:
    true = _field(row, "requested_rewrite.target_true.str")
    return dict(
        subject=_field(row, "requested_rewrite.subject"),
        prompt=_field(row, "requested_rewrite.prompt"),
        target_new=_field(row, "requested_rewrite.target_new.str"),
        target_true=true,
        relation_id=row["requested_rewrite"].get("relation_id"),
        paraphrase_prompts=_strings(row.get("paraphrase_prompts") or [], "paraphrase_prompts"),
        neighborhood_prompts=[p if isinstance(p, Mapping) else {"prompt": p, "target": true} for p in _list(row, "neighborhood_prompts")],
        meta=_case_id(row),
    )


FORMATS.add("counterfact", RowFormat(detect=lambda row: "requested_rewrite" in row, convert=_counterfact))


def _zsre(row: Mapping) -> dict | None:
    if not _field(row, "alt"):
        return None
    answers = _strings(row.get("answers") or [], "answers")
    return dict(
        subject=_field(row, "subject"),
        prompt=_field(row, "src"),
        target_new=row["alt"],
        target_true=answers[0] if answers else None,
        paraphrase_prompts=[row["rephrase"]] if row.get("rephrase") else [],
        neighborhood_prompts=[{"prompt": row["loc"], "target": row.get("loc_ans") or ""}] if row.get("loc") else [],
        meta=_case_id(row),
    )


FORMATS.add("zsre", RowFormat(detect=lambda row: "src" in row and "alt" in row, convert=_zsre))


def _easyedit(row: Mapping) -> dict:
    rephrase = row.get("rephrase_prompt", row.get("rephrase")) or []
    loc_prompts = _strings(row.get("locality_prompt") or [], "locality_prompt")
    loc_truths = _strings(row.get("locality_ground_truth") or [""] * len(loc_prompts), "locality_ground_truth")
    if len(loc_truths) != len(loc_prompts):
        raise RowFormatError(f"locality_prompt has {len(loc_prompts)} item(s) but locality_ground_truth {len(loc_truths)}")
    truth = row.get("ground_truth")
    return dict(
        subject=_field(row, "subject"),
        prompt=_field(row, "prompt"),
        target_new=_field(row, "target_new"),
        target_true=truth[0] if isinstance(truth, list) and truth else truth or None,
        paraphrase_prompts=_strings(rephrase, "rephrase_prompt"),
        neighborhood_prompts=[{"prompt": p, "target": t} for p, t in zip(loc_prompts, loc_truths)],
        meta=_case_id(row),
    )


FORMATS.add("easyedit", RowFormat(detect=lambda row: bool({"ground_truth", "rephrase_prompt", "locality_prompt"} & set(row)), convert=_easyedit))


def _row(i: int) -> str:
    return f"row {i}"


def detect_format(row: Mapping, where: str = "row 0") -> str:
    """The one format whose markers ``row`` carries; kedit's own when none does."""
    if not isinstance(row, Mapping):
        raise RowFormatError(f"{where}: expected a mapping, got {type(row).__name__}")
    found = [name for name, fmt in FORMATS.items() if fmt.detect and fmt.detect(row)]
    if len(found) > 1:
        raise RowFormatError(f"{where} looks like several formats ({', '.join(found)}); name one with dataset.format")
    return found[0] if found else NATIVE


def _convert(spec: RowFormat, row, name: str) -> dict | None:
    """One row in ``spec``'s format as kedit's fields (None: skipped); raises RowFormatError saying why not."""
    if not isinstance(row, Mapping):
        raise RowFormatError(f"expected a mapping, got {type(row).__name__}")
    if spec.detect and not spec.detect(row):
        raise RowFormatError(f"lacks the fields that mark the format (the file's first row is {name})")
    return spec.convert(row)


def convert_rows(rows: Sequence[Mapping], fmt: str = "auto", where: Callable[[int], str] = _row) -> tuple[list[dict], str, list[int]]:
    """kedit rows of ``rows`` read as ``fmt`` ('auto': :func:`detect_format` of the first row).

    Returns (rows, the format's name, the indices of the rows it skipped). Every row that does
    not fit is reported, named by ``where(index)`` (a file and line, or ``row <index>``), in
    one :class:`RowFormatError`."""
    if fmt != "auto":
        name = FORMATS.check(fmt)
    else:
        name = detect_format(rows[0], where(0)) if rows else NATIVE
    spec = FORMATS[name]
    out, skipped, problems = [], [], []
    for i, row in enumerate(rows):
        try:
            converted = _convert(spec, row, name)
        except RowFormatError as e:
            problems.append(f"{where(i)} ({name} format): {e}")
            continue
        if converted is None:
            skipped.append(i)
        else:
            out.append(converted)
    if problems:
        raise RowFormatError(problems, f"rows that do not fit the {name} format")
    return out, name, skipped
