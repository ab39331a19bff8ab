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
from collections.abc import Mapping
from dataclasses import dataclass, field

from kedit.data import queries, subjects, targets, templates
from kedit.data.errors import ConfigError
from kedit.data.sparql import WIKIDATA
from kedit.util import help_field

ROOT = "dataset.wikidata"


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
    sample: int | None = help_field(
        None, "How many relations to draw (seeded) from the candidates; the paper uses 100. null: all candidates.",
        check=queries.positive_int)
    ids: list[str] | None = help_field(
        None, "Explicit relation P-ids; they replace discovery of the properties used on the subject class.",
        check=queries.property_id)
    exclude: list[str] = help_field(
        ["P31"], "P-ids never used (P31 'instance of' is the same for every human).", check=queries.property_id)
    allow_fewer: bool = help_field(
        False, "If the knowledge base offers fewer usable relations than asked, warn and build with them "
        "(recorded in the provenance) instead of failing.")
    value_types: list[str] = help_field(
        ["item"], "Value types of the relations: item (objects are labelled items, as in the paper), time (a "
        "date, written as its year), quantity (a number).", check=queries.value_type, minItems=1)
    min_subjects: int = help_field(
        3, "Least number of distinct labelled subjects a discovered relation needs.", check=queries.positive_int)
    scan_humans: int = help_field(
        20000, "Discovery looks at this many subjects of the subject class (a LIMIT that keeps the query "
        "within live Wikidata's time limit).", check=queries.positive_int)
    pool: int = help_field(
        10000, "LIMIT of each relation's fact query: the facts the edit triple and neighbours are drawn from.",
        check=queries.positive_int)


@dataclass
class SubjectsConfig:
    policy: str = help_field(
        "same", "same: one name for every row; distinct: a different name per row; original: the real subject.",
        check=subjects.POLICIES.check)
    name: str = help_field("John Smith", "The name used by the 'same' policy.", check=_non_empty)
    names: str | list[str] = help_field(
        "builtin", "Names for 'distinct': 'builtin' (kedit/data/names/names.txt), a list, or a text file (one per line).")


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
        1, "Neighbour prompts per row about another subject, same relation.", check=_non_negative)
    other_relation: int = help_field(
        1, "Neighbour prompts per row about another subject, another relation.", check=_non_negative)


@dataclass
class WikidataConfig:
    endpoint: str = help_field(WIKIDATA, "SPARQL endpoint URL, or 'offline'/'snapshot' for the embedded snapshot.")
    seed: int = help_field(0, "Seed of every random choice (relations, triples, names, targets, neighbours).")
    language: str = help_field("en", "Label language.", check=queries.language)
    subject_class: str = help_field("Q5", "Q-id the subjects are instances of (wdt:P31); Q5 = human.", check=queries.item_id)
    query: str | None = help_field(
        None, "Raw SPARQL returning ?subject ?subjectLabel ?relation ?relationLabel ?object ?objectLabel; "
        "replaces discovery and the per-relation fact queries.")
    per_relation: int = help_field(1, "Edit rows per relation, each about a different subject.", check=queries.positive_int)
    target: str = help_field(
        "object", "object: target_new is the true object (fictitious subjects, the paper); counterfactual: target_new "
        "is another object of the same relation and target_true the real one.", check=targets.POLICIES.check)
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
