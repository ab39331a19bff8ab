"""The ``dataset.wikidata`` section of a spec, as dataclasses with help text.

:func:`parse_config` turns a mapping into a :class:`WikidataConfig`: unknown keys, wrong
types and bad values raise :class:`ConfigError` naming the key path
(``dataset.wikidata.relations.ids[1]``). :func:`as_dict` gives the resolved section back
(defaults filled in), which is what a built dataset records as its spec.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kedit.data import queries, subjects, targets, templates
from kedit.data.errors import ConfigError
from kedit.data.sparql import WIKIDATA

ROOT = "dataset.wikidata"


def _help(text: str, check: Callable[[object], object] | None = None, min_items: int | None = None, **kw):
    """A field with help text, an optional validator (a :mod:`queries` checker raising
    ValueError) and, for a list, the least number of items (also written to the JSON Schema)."""
    metadata = {"help": text, "check": check, **({"minItems": min_items} if min_items is not None else {})}
    return field(metadata=metadata, **kw)


def _non_negative(value: int) -> int:
    if value < 0:
        raise ValueError(f"{value!r} is negative")
    return value


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("empty name")
    return value


@dataclass
class RelationsConfig:
    sample: int | None = _help(
        "How many relations to draw (seeded) from the candidates; the paper uses 100. null: all candidates.",
        queries.positive_int, default=None)
    ids: list[str] | None = _help(
        "Explicit relation P-ids; they replace discovery of the properties used on the subject class.",
        queries.property_id, default=None)
    exclude: list[str] = _help(
        "P-ids never used (P31 'instance of' is the same for every human).",
        queries.property_id, default_factory=lambda: ["P31"])
    allow_fewer: bool = _help(
        "If the knowledge base offers fewer usable relations than asked, warn and build with them "
        "(recorded in the provenance) instead of failing.", default=False)
    value_types: list[str] = _help(
        "Value types of the relations: item (objects are labelled items, as in the paper), time (a "
        "date, written as its year), quantity (a number).", queries.value_type,
        min_items=1, default_factory=lambda: ["item"])
    min_subjects: int = _help(
        "Least number of distinct labelled subjects a discovered relation needs.", queries.positive_int, default=3)
    scan_humans: int = _help(
        "Discovery looks at this many subjects of the subject class (a LIMIT that keeps the query "
        "within live Wikidata's time limit).", queries.positive_int, default=20000)
    pool: int = _help(
        "LIMIT of each relation's fact query: the facts the edit triple and neighbours are drawn from.",
        queries.positive_int, default=10000)


@dataclass
class SubjectsConfig:
    policy: str = _help(
        "same: one name for every row; distinct: a different name per row; original: the real subject.",
        subjects.POLICIES.check, default="same")
    name: str = _help("The name used by the 'same' policy.", _non_empty, default="John Smith")
    names: str | list[str] = _help(
        "Names for 'distinct': 'builtin' (kedit/data/names/names.txt), a list, or a text file (one per line).",
        default="builtin")


@dataclass
class TemplatesConfig:
    edit: str = _help(
        "Edit prompt; {subject} and {relation} are filled in.", templates.check, default="{subject}'s {relation} is")
    paraphrase: list[str] = _help(
        "Paraphrase prompts, rendered with the row's subject.", templates.check,
        default_factory=lambda: ["The name of the {relation} of {subject} is"])
    neighborhood: str | None = _help(
        "Prompt for specificity neighbours; null: the edit template.", templates.check, default=None)


@dataclass
class NeighborsConfig:
    same_relation: int = _help(
        "Neighbour prompts per row about another subject, same relation.", _non_negative, default=1)
    other_relation: int = _help(
        "Neighbour prompts per row about another subject, another relation.", _non_negative, default=1)


@dataclass
class WikidataConfig:
    endpoint: str = _help("SPARQL endpoint URL, or 'offline'/'snapshot' for the embedded snapshot.", default=WIKIDATA)
    seed: int = _help("Seed of every random choice (relations, triples, names, targets, neighbours).", default=0)
    language: str = _help("Label language.", queries.language, default="en")
    subject_class: str = _help("Q-id the subjects are instances of (wdt:P31); Q5 = human.", queries.item_id, default="Q5")
    query: str | None = _help(
        "Raw SPARQL returning ?subject ?subjectLabel ?relation ?relationLabel ?object ?objectLabel; "
        "replaces discovery and the per-relation fact queries.", default=None)
    per_relation: int = _help("Edit rows per relation, each about a different subject.", queries.positive_int, default=1)
    target: str = _help(
        "object: target_new is the true object (fictitious subjects, the paper); counterfactual: target_new "
        "is another object of the same relation and target_true the real one.", targets.POLICIES.check,
        default="object")
    relations: RelationsConfig = field(default_factory=RelationsConfig, metadata={"help": "Relation selection."})
    subjects: SubjectsConfig = field(default_factory=SubjectsConfig, metadata={"help": "Subject policy."})
    templates: TemplatesConfig = field(default_factory=TemplatesConfig, metadata={"help": "Prompt templates."})
    neighbors: NeighborsConfig = field(default_factory=NeighborsConfig, metadata={"help": "Specificity prompts."})


def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _matches(value: object, tp) -> bool:
    """Whether ``value`` fits the annotation ``tp`` (the few forms used above)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in args)
    if origin is list:
        return isinstance(value, list) and all(_matches(v, args[0]) for v in value)
    if tp is type(None):
        return value is None
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


def _check(value: object, check, where: str) -> None:
    """Run the field's validator on the value, or on each item of a list; name the failing key."""
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        if item is None:
            continue
        try:
            check(item)
        except ValueError as err:
            raise ConfigError(f"{where}{f'[{i}]' if isinstance(value, list) else ''}: {err}") from err


def _parse(cls, raw: object, where: str):
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    values = {}
    for name, value in raw.items():
        tp, key = hints[name], f"{where}.{name}"
        if dataclasses.is_dataclass(tp):  # an empty YAML section (None) means all defaults
            values[name] = _parse(tp, {} if value is None else value, key)
            continue
        if not _matches(value, tp):
            raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")
        if isinstance(value, list) and len(value) < known[name].metadata.get("minItems", 0):
            raise ConfigError(f"{key}: needs at least {known[name].metadata['minItems']} item(s)")
        if known[name].metadata.get("check") is not None:
            _check(value, known[name].metadata["check"], key)
        values[name] = value
    return cls(**values)


def parse_config(raw: Mapping | None) -> WikidataConfig:
    """Validate a ``dataset.wikidata`` mapping (``None`` = all defaults) into a :class:`WikidataConfig`."""
    return _parse(WikidataConfig, raw if raw is not None else {}, ROOT)


def as_dict(cfg: WikidataConfig) -> dict:
    """The resolved section, defaults filled in, in field order."""
    return dataclasses.asdict(cfg)
