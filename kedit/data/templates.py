"""Prompt templates ("{subject}'s {relation} is") and the natural phrase of each relation.

A template holds ``{subject}`` (required) and may hold ``{relation}``; no other field,
conversion or format spec. ``{relation}`` becomes the relation's phrase from
``wikidata/relation_phrases.yaml`` ("birthplace" for P19) when the file has one, else its
Wikidata label: the wording lives in that data file, not here.
"""

from __future__ import annotations

import string
from pathlib import Path

import yaml

PHRASES = Path(__file__).parent / "wikidata" / "relation_phrases.yaml"
FIELDS = ("subject", "relation")

_formatter = string.Formatter()


def _parts(template: str) -> list[tuple[str, str | None]]:
    """(literal text, field name or None) pairs; raises ValueError naming a malformed template."""
    try:
        parsed = list(_formatter.parse(template))
    except ValueError as err:
        raise ValueError(f"template {template!r}: {err}") from err
    parts = []
    for literal, name, spec, conversion in parsed:
        if name is not None and (name not in FIELDS or spec or conversion):
            raise ValueError(f"template {template!r}: unknown field {{{name}}}; allowed: {{subject}}, {{relation}}")
        parts.append((literal, name))
    return parts


def check(template: str) -> str:
    """Return ``template`` if it is well formed and holds ``{subject}``, else raise ValueError naming it."""
    if "subject" not in {name for _, name in _parts(template)}:
        raise ValueError(f"template {template!r} has no {{subject}} placeholder")
    return template


def render(template: str, subject: str, relation: str) -> str:
    """The sentence with subject and relation phrase filled in."""
    values = {"subject": subject, "relation": relation}
    return "".join(literal + (values[name] if name else "") for literal, name in _parts(template))


def subject_slot(template: str, relation: str) -> str:
    """The prompt as a subject template: ``{}`` where the subject goes and every other
    brace doubled, so that filling its slot (:func:`kedit.editing.requests.fill`) gives
    :func:`render`'s sentence."""
    def escape(text: str) -> str:
        return text.replace("{", "{{").replace("}", "}}")

    values = {"subject": "{}", "relation": escape(relation)}
    return "".join(escape(literal) + (values[name] if name else "") for literal, name in _parts(template))


def load_phrases(path: Path = PHRASES) -> dict[str, str]:
    """P-id → natural phrase, for the relations whose file entry has one."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {pid: entry["phrase"] for pid, entry in entries.items() if entry.get("phrase")}
