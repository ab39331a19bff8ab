"""The ``dataset.wikidata`` section of a spec, as dataclasses with help text.

:func:`parse_config` turns a mapping into a :class:`WikidataConfig` with one checker: the
JSON Schema that ``kedit schema`` generates from these dataclasses (shapes, types, unknown
keys, ``minimum``, ``minItems``, ``enum``: editors and ``kedit validate`` see them too), then
the fields' ``check`` validators for what the generated schema does not say: P-id, Q-id and
language formats (their messages say what a valid id looks like), non-blank names
and well-formed templates with ``{subject}``; then the checks across keys: the subject
policy's own keys and shape (:func:`subjects.check`) and ``relations.ids`` inside the
``split``. Each raises :class:`ConfigError`, which names the key
(``dataset.wikidata.relations.ids[1]``) and carries its JSON pointer (``/relations/ids/1``).
:func:`as_dict` gives the resolved section back (defaults filled in), which is what a built
dataset records as its spec.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import jsonschema

from kedit.data import queries, splits, subjects, targets, templates
from kedit.data.errors import ConfigError
from kedit.data.splits import Split
from kedit.util import dataclass_schema, help_field

#: The public Wikidata SPARQL endpoint, the default ``endpoint``.
WIKIDATA = "https://query.wikidata.org/sparql"

#: The keys of :data:`queries.VALUE_TYPES`, spelled out so the schema lists them (a test checks they agree).
ValueType = Literal["item", "time", "quantity"]


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("empty name")
    return value


@dataclass
class RelationsConfig:
    sample: int | None = help_field(
        None, "How many relations to draw (seeded) from the candidates; the paper uses 100. null: all candidates.",
        minimum=1)
    ids: list[str] | None = help_field(
        None, "Explicit relation P-ids; they replace discovery of the properties used on the subject class.",
        check=queries.property_id)
    exclude: list[str] = help_field(
        ["P31"], "P-ids never used (P31 'instance of' is the same for every human).", check=queries.property_id)
    allow_fewer: bool = help_field(
        False, "If the knowledge base offers fewer usable relations than asked, warn and build with them "
        "(recorded in the provenance) instead of failing.")
    value_types: list[ValueType] = help_field(
        ["item"], "Value types of the relations: item (objects are labelled items, as in the paper), time (a "
        "date, written as its year), quantity (a number).", minItems=1)
    min_subjects: int = help_field(
        3, "Least number of distinct labelled subjects a discovered relation needs.", minimum=1)
    scan_humans: int = help_field(
        20000, "Discovery looks at this many subjects of the subject class (a LIMIT that keeps the query "
        "within live Wikidata's time limit).", minimum=1)
    pool: int = help_field(
        10000, "LIMIT of each relation's fact query: the facts the edit triple and neighbours are drawn from.",
        minimum=1)


@dataclass
class SubjectsConfig:
    policy: str = help_field(
        "same", "same: one name for every row; distinct: a different name per row; grouped: `groups` names with "
        "`facts` facts each; mixed: grouped plus `singles` names with one fact each; original: the real subject. "
        "A name's facts have distinct relations.", enum=subjects.POLICIES.names())
    name: str = help_field("John Smith", "The name used by the 'same' policy.", check=_non_empty)
    names: str | list[str] = help_field(
        "builtin", "Names for 'distinct', 'grouped' and 'mixed': 'builtin' (kedit/data/names/names.txt), a list, or "
        "a text file (one per line).")
    groups: int | None = help_field(
        None, "grouped, mixed: how many subjects get `facts` facts each (k of k x m).", minimum=1)
    facts: int | None = help_field(
        None, "grouped, mixed: facts per grouped subject, each of another relation (m of k x m).", minimum=1)
    singles: int | None = help_field(
        None, "mixed: how many further subjects get one fact each. The policy's subjects take every row: "
        "groups x facts (+ singles) must equal the relations x per_relation.", minimum=1)


@dataclass
class TemplatesConfig:
    edit: str = help_field(
        "{subject}'s {relation} is", "Edit prompt; {subject} and {relation} are filled in.", check=templates.check)
    paraphrase: list[str] = help_field(
        ["The name of the {relation} of {subject} is"], "Paraphrase prompts, rendered with the row's subject.",
        check=templates.check)
    neighborhood: str | None = help_field(
        None, "Prompt for specificity neighbours; null: the edit template.", check=templates.check)


@dataclass
class NeighborsConfig:
    same_relation: int = help_field(
        1, "Neighbour prompts per row about another subject, same relation.", minimum=0)
    other_relation: int = help_field(
        1, "Neighbour prompts per row about another subject, another relation.", minimum=0)


@dataclass
class WikidataConfig:
    endpoint: str = help_field(WIKIDATA, "SPARQL endpoint URL, or 'offline'/'snapshot' for the embedded snapshot.")
    seed: int = help_field(0, "Seed of every random choice (relations, triples, names, targets, neighbours).")
    language: str = help_field("en", "Label language.", check=queries.language)
    subject_class: str = help_field("Q5", "Q-id the subjects are instances of (wdt:P31); Q5 = human.", check=queries.item_id)
    query: str | None = help_field(
        None, "Raw SPARQL returning ?subject ?subjectLabel ?relation ?relationLabel ?object ?objectLabel; "
        "replaces discovery and the per-relation fact queries.")
    per_relation: int = help_field(1, "Edit rows per relation, each about a different subject.", minimum=1)
    split: Split = help_field(
        "all", "all: every relation and name; tune / test: only the relations and names of that half (a fixed hash "
        "of each P-id and name, the same for every seed and setting), so a tune and a test build share neither.")
    target: str = help_field(
        "object", "object: target_new is the true object (fictitious subjects, the paper); counterfactual: target_new "
        "is another object of the same relation and target_true the real one.", enum=targets.POLICIES.names())
    relations: RelationsConfig = field(default_factory=RelationsConfig, metadata={"help": "Relation selection."})
    subjects: SubjectsConfig = field(default_factory=SubjectsConfig, metadata={"help": "Subject policy."})
    templates: TemplatesConfig = field(default_factory=TemplatesConfig, metadata={"help": "Prompt templates."})
    neighbors: NeighborsConfig = field(default_factory=NeighborsConfig, metadata={"help": "Specificity prompts."})


@cache
def _validator() -> jsonschema.Draft202012Validator:
    """The section's JSON Schema, generated from :class:`WikidataConfig` as ``kedit schema`` does."""
    return jsonschema.Draft202012Validator(dataclass_schema(WikidataConfig))


def _reason(err: jsonschema.ValidationError) -> str:
    """A schema error's message, with unknown keys and alternatives of plain types spelled out."""
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        known = list(err.schema.get("properties", {}))
        unknown = sorted(key for key in err.instance if key not in known)
        return f"unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(known)}"
    if err.validator in ("anyOf", "oneOf") and err.context and all(c.validator == "type" for c in err.context):
        kinds = " or ".join(repr(c.validator_value) for c in err.context)
        return f"{err.instance!r} is not of type {kinds}"
    return err.message


def _check(value: object, check, path: tuple) -> None:
    """Run a field's validator on the value, or on each item of a list; name the failing key."""
    items = enumerate(value) if isinstance(value, list) else [(None, value)]
    for i, item in items:
        if item is None:
            continue
        try:
            check(item)
        except ValueError as err:
            raise ConfigError(str(err), path if i is None else (*path, i)) from err


def _build(cls, raw: Mapping, path: tuple):
    """A dataclass from a schema-valid mapping, running the fields' ``check`` validators
    (the value checks a JSON Schema keyword cannot express)."""
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name not in raw:
            continue
        value, where = raw[f.name], (*path, f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            value = _build(hints[f.name], value, where)
        elif f.metadata.get("check") is not None:
            _check(value, f.metadata["check"], where)
        values[f.name] = value
    return cls(**values)


def parse_config(raw: Mapping | None) -> WikidataConfig:
    """Validate a ``dataset.wikidata`` mapping (``None`` = all defaults) against the section's
    JSON Schema, then build a :class:`WikidataConfig` from it; raises :class:`ConfigError`
    naming the first bad key."""
    raw = {} if raw is None else raw
    err = jsonschema.exceptions.best_match(_validator().iter_errors(raw))  # the most relevant one
    if err is not None:
        raise ConfigError(_reason(err), list(err.absolute_path))
    cfg = _build(WikidataConfig, raw, ())
    _check_split(cfg)
    subjects.check(cfg.subjects, subjects.Known(_relation_count(cfg), cfg.per_relation, cfg.split))
    return cfg


def _relation_count(cfg: WikidataConfig) -> int | None:
    """How many relations the build uses when the settings fix it (``None``: the knowledge base decides)."""
    if cfg.relations.sample is not None:
        return cfg.relations.sample
    if cfg.relations.ids is not None and cfg.query is None:
        return len(set(cfg.relations.ids) - set(cfg.relations.exclude))
    return None


def _check_split(cfg: WikidataConfig) -> None:
    """Listed relations belong to the split's half (discovered ones are filtered to it)."""
    for i, pid in enumerate(cfg.relations.ids or []):
        if pid not in cfg.relations.exclude and not splits.keeps(cfg.split, pid):
            raise ConfigError(f"{pid} belongs to the {splits.half(pid)} split's relations, not to split {cfg.split!r}",
                              ("relations", "ids", i))


def as_dict(cfg: WikidataConfig) -> dict:
    """The resolved section, defaults filled in, in field order."""
    return dataclasses.asdict(cfg)
