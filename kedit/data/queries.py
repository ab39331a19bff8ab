"""SPARQL text for the builder, shaped to run unchanged on live Wikidata and on the snapshot.

Every user value that enters a query (P-ids, Q-ids, limits, language codes) passes a strict
validator first and is then written as a prefixed name or a bare integer, never pasted as
free text; a bad value raises ``ValueError`` naming it. Labels come from ``rdfs:label`` with
``FILTER(LANG(?x) = "<language>")`` (no ``SERVICE wikibase:label``, which the snapshot lacks).

Bounding on live Wikidata. Scanning every human (over ten million) times out on WDQS, so
relation discovery looks only at the first ``scan_humans`` humans the endpoint yields
(an inner ``LIMIT``), and each relation's facts are fetched by its own query with a
``LIMIT``. On the snapshot both limits exceed the data (8,147 humans, at most 4,648 facts
per property), so results are complete and the sample does not depend on the endpoint's
row order; on Wikidata the on-disk cache pins what one run saw.
"""

from __future__ import annotations

import re

#: Prefixes used by the queries and by :func:`compact`; ``kl:`` marks the snapshot's local
#: entities, which have no Wikidata item (see kedit/data/wikidata/README.md).
PREFIXES = {
    "wd": "http://www.wikidata.org/entity/",
    "wdt": "http://www.wikidata.org/prop/direct/",
    "wikibase": "http://wikiba.se/ontology#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "kl": "http://kedit.local/entity/",
}
_XSD = "http://www.w3.org/2001/XMLSchema#"
#: Value types a relation may have (``relations.value_types``) → Wikidata property type and
#: the XML Schema datatype of its truthy (``wdt:``) values; items have labels instead.
VALUE_TYPES = {"item": ("WikibaseItem", None), "time": ("Time", "dateTime"), "quantity": ("Quantity", "decimal")}
#: IRIs whose prefix is dropped when compacted ("Q42", "P19"); other known prefixes are kept ("kl:x").
_BARE = ("wd", "wdt")

_PROPERTY = re.compile(r"P[1-9][0-9]*")
_ITEM = re.compile(r"Q[1-9][0-9]*")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z]+)?")

_PROLOGUE = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())


def property_id(value: object) -> str:
    """Return ``value`` if it is a Wikidata property id (``P19``), else raise ``ValueError`` naming it."""
    if not isinstance(value, str) or not _PROPERTY.fullmatch(value):
        raise ValueError(f"{value!r} is not a Wikidata property id (P followed by digits, e.g. P19)")
    return value


def item_id(value: object) -> str:
    """Return ``value`` if it is a Wikidata item id (``Q5``), else raise ``ValueError`` naming it."""
    if not isinstance(value, str) or not _ITEM.fullmatch(value):
        raise ValueError(f"{value!r} is not a Wikidata item id (Q followed by digits, e.g. Q5)")
    return value


def positive_int(value: object) -> int:
    """Return ``value`` if it is an int >= 1 (bools refused), else raise ``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{value!r} is not a positive integer")
    return value


def language(value: object) -> str:
    """Return ``value`` if it is a language code such as ``en`` or ``pt-br``, else raise ``ValueError``."""
    if not isinstance(value, str) or not _LANGUAGE.fullmatch(value):
        raise ValueError(f"{value!r} is not a language code (2-3 lowercase letters, optional -subtag)")
    return value


def value_type(value: object) -> str:
    """Return ``value`` if it names a :data:`VALUE_TYPES` entry, else raise ``ValueError`` listing them."""
    if value not in VALUE_TYPES:
        raise ValueError(f"{value!r} is not a value type (one of {', '.join(VALUE_TYPES)})")
    return value


def compact(iri: str) -> str:
    """``http://www.wikidata.org/entity/Q42`` → ``Q42``; ``http://kedit.local/entity/x`` → ``kl:x``;
    anything else unchanged."""
    for name, base in PREFIXES.items():
        if iri.startswith(base):
            local = iri[len(base):]
            return local if name in _BARE else f"{name}:{local}"
    return iri


def _label(var: str, lang: str) -> str:
    return f'?{var} rdfs:label ?{var}Label . FILTER(LANG(?{var}Label) = "{lang}")'


def _object(lang: str, value_types: tuple[str, ...]) -> str:
    """Bind ``?objectLabel``: an item's label, or a literal written as text (a date as its
    year, a quantity without the "+" that Wikidata writes and some stores keep). Items only:
    the plain label pattern, so that item-valued queries stay as they were (and so do the
    keys of their cached results)."""
    if value_types == ("item",):
        return _label("object", lang)
    datatypes = [f"<{_XSD}{VALUE_TYPES[t][1]}>" for t in value_types if t != "item"]
    literal = (f'IF(DATATYPE(?object) = <{_XSD}dateTime>, STR(YEAR(?object)), '
               'IF(STRSTARTS(STR(?object), "+"), SUBSTR(STR(?object), 2), STR(?object)))')
    item = (f'OPTIONAL {{ ?object rdfs:label ?objectName . FILTER(LANG(?objectName) = "{lang}") }}\n  '
            if "item" in value_types else "")
    return (item + f"BIND(IF(isLiteral(?object), {literal}, ?objectName) AS ?objectLabel)\n"
            f"  FILTER(BOUND(?objectLabel) && (!isLiteral(?object) || DATATYPE(?object) IN ({', '.join(datatypes)})))")


def _types(value_types) -> tuple[str, ...]:
    """Validated value types, in :data:`VALUE_TYPES` order (one query text per set)."""
    chosen = {value_type(t) for t in value_types}
    if not chosen:
        raise ValueError("no value types given")
    return tuple(t for t in VALUE_TYPES if t in chosen)


def relation_discovery(lang: str = "en", scan_humans: int = 20000, subject_class: str = "Q5",
                       value_types=("item",)) -> str:
    """Properties of the given value types (items by default) used on instances of
    ``subject_class`` (Q5: humans), with their label and counts of distinct labelled subjects
    and objects (literals count as labelled), over the first ``scan_humans`` such subjects.

    Columns: ``?relation ?relationLabel ?subjects ?objects``.
    """
    lang, scan_humans, subject_class = language(lang), positive_int(scan_humans), item_id(subject_class)
    value_types = _types(value_types)
    kinds = " ".join(f"wikibase:{VALUE_TYPES[t][0]}" for t in value_types)
    prop_type = (f"wikibase:{VALUE_TYPES['item'][0]} .\n" if value_types == ("item",)
                 else f"?type .\n  VALUES ?type {{ {kinds} }}\n")
    return (
        _PROLOGUE
        + "SELECT ?relation ?relationLabel (COUNT(DISTINCT ?subject) AS ?subjects) (COUNT(DISTINCT ?object) AS ?objects) WHERE {\n"
        + f"  {{ SELECT ?subject WHERE {{ ?subject wdt:P31 wd:{subject_class} . }} LIMIT {scan_humans} }}\n"
        + "  ?subject ?claim ?object .\n"
        + "  ?relation wikibase:directClaim ?claim ; wikibase:propertyType " + prop_type
        + f"  {_label('relation', lang)}\n"
        + f"  {_label('subject', lang)}\n"
        + f"  {_object(lang, value_types)}\n"
        + "}\nGROUP BY ?relation ?relationLabel\n"
    )


def relation_labels(ids: list[str], lang: str = "en") -> str:
    """The label of each property in ``ids``. Columns: ``?relation ?relationLabel``."""
    values = " ".join(f"wd:{property_id(p)}" for p in ids)
    lang = language(lang)
    return (
        _PROLOGUE
        + "SELECT ?relation ?relationLabel WHERE {\n"
        + f"  VALUES ?relation {{ {values} }}\n"
        + f"  {_label('relation', lang)}\n"
        + "}\n"
    )


def relation_facts(relation: str, lang: str = "en", limit: int = 10000, subject_class: str = "Q5",
                   value_types=("item",)) -> str:
    """Facts ``(subject, relation, object)`` whose subject is an instance of ``subject_class``
    and whose ends are labelled (or the object a literal of one of ``value_types``), at most
    ``limit`` of them.

    Columns: ``?subject ?subjectLabel ?object ?objectLabel``.
    """
    relation, lang, limit = property_id(relation), language(lang), positive_int(limit)
    subject_class, value_types = item_id(subject_class), _types(value_types)
    return (
        _PROLOGUE
        + "SELECT ?subject ?subjectLabel ?object ?objectLabel WHERE {\n"
        + f"  ?subject wdt:{relation} ?object .\n"
        + f"  ?subject wdt:P31 wd:{subject_class} .\n"
        + f"  {_label('subject', lang)}\n"
        + f"  {_object(lang, value_types)}\n"
        + f"}}\nLIMIT {limit}\n"
    )


_LOCAL = re.compile(r"kl:[A-Za-z0-9_]+")


def local_id(value: object) -> str:
    """Return ``value`` if it is a snapshot-local id (``kl:Max_Wolf_4d5a05ee``), else raise ``ValueError``."""
    if not isinstance(value, str) or not _LOCAL.fullmatch(value):
        raise ValueError(f"{value!r} is not a snapshot-local id (kl: followed by letters, digits and _)")
    return value


def label_matches(local_ids: list[str], subject_class: str = "Q5") -> str:
    """Each Wikidata item (``wd:`` IRI, not ``kl:``) of ``subject_class`` whose label is exactly
    (same text, same language) a label of one of ``local_ids``, with the number of statements
    (same property, same object) the two hold in common. A local id with no such item has no row.

    Columns: ``?local ?item ?shared``.
    """
    values = " ".join(local_id(i) for i in local_ids)
    subject_class = item_id(subject_class)
    return (
        _PROLOGUE
        + "SELECT ?local ?item (COUNT(?claim) AS ?shared) WHERE {\n"
        + f"  VALUES ?local {{ {values} }}\n"
        + "  ?local rdfs:label ?label .\n"
        + f"  ?item rdfs:label ?label ; wdt:P31 wd:{subject_class} .\n"
        + f'  FILTER(STRSTARTS(STR(?item), "{PREFIXES["wd"]}"))\n'
        + "  OPTIONAL { ?local ?claim ?object . ?item ?claim ?object . ?property wikibase:directClaim ?claim .\n"
        + "             FILTER(?claim != wdt:P31) }\n"
        + "}\nGROUP BY ?local ?item\n"
    )
