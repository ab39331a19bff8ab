"""Link snapshot-local subjects (``kl:`` ids) to a Wikidata item where the knowledge base
holds evidence beyond the name.

The snapshot's ``kl:`` people come from source rows that named them only by an English label
(KAMEL; see kedit/data/wikidata/README.md), not from people without a Wikidata item. A label
is not an identity: the snapshot holds a few thousand of Wikidata's millions of humans, so a
label found once in it can still belong to another person (the shipped sets' ``kl:`` "John
Hughes" is a footballer, the snapshot's only John Hughes, Q311263, the film-maker). A ``kl:``
subject is therefore linked only when

1. exactly one Wikidata item of the spec's ``subject_class`` (Q5, human) has its label (same
   text, same language), and
2. that item and the ``kl:`` subject hold at least one statement in common (same property,
   same object: evidence beyond the name).

Nothing else is linked, and no id is made up: a link is an item the knowledge base holds.
Every other subject keeps its ``kl:`` id with the reason (:data:`REASONS`). A common statement
is evidence, not proof (it may be a common one, such as playing the guitar). Over the whole
shipped snapshot, 327 of its 1,957 ``kl:`` humans link; 1,387 have a label held by one item
but no statement in common, 240 a label no item has, 3 a label several items have.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass

from kedit.data import queries
from kedit.data.facts import Fact

#: Why a ``kl:`` subject was linked or not; the keys are the values of :attr:`SubjectLink.reason`.
REASONS = {
    "linked": "exactly one item with the label, holding a statement of the subject's",
    "no_item_with_label": "no item of the subject class has the label",
    "several_items_with_label": "several items of the subject class have the label",
    "no_shared_statement": "one item has the label but holds none of the subject's statements",
}
RULE = ("exact label (text and language) of exactly one Wikidata item of the subject class, "
        "and at least one statement (property and object) in common; otherwise the kl: id stays")


@dataclass(frozen=True)
class SubjectLink:
    """What became of one ``kl:`` subject: ``wikidata_id`` is the linked Q-id, or None with
    ``reason`` (a :data:`REASONS` key) saying why not; ``candidates`` are the items with its label."""

    local_id: str
    label: str
    wikidata_id: str | None
    reason: str
    candidates: tuple[str, ...]


def _decide(local_id: str, label: str, matches: dict[str, int]) -> SubjectLink:
    """``matches``: candidate Q-id → statements in common with ``local_id``."""
    candidates = tuple(sorted(matches))
    if not matches:
        return SubjectLink(local_id, label, None, "no_item_with_label", candidates)
    if len(matches) > 1:
        return SubjectLink(local_id, label, None, "several_items_with_label", candidates)
    (item, shared), = matches.items()
    if shared == 0:
        return SubjectLink(local_id, label, None, "no_shared_statement", candidates)
    return SubjectLink(local_id, label, item, "linked", candidates)


def link_subjects(facts: list[Fact], select: Callable[[str], list[dict[str, str]]],
                  subject_class: str = "Q5") -> list[SubjectLink]:
    """One :class:`SubjectLink` per distinct ``kl:`` subject of ``facts``, in id order; one
    query (:func:`kedit.data.queries.label_matches`), none when no subject is ``kl:``."""
    labels = {f.subject_id: f.subject_label for f in facts if f.subject_id.startswith("kl:")}
    if not labels:
        return []
    matches: dict[str, dict[str, int]] = {local: {} for local in labels}
    for row in select(queries.label_matches(sorted(labels), subject_class)):
        matches[queries.compact(row["local"])][queries.compact(row["item"])] = int(row["shared"])
    return [_decide(local, labels[local], matches[local]) for local in sorted(labels)]


def row_counts(links: list[SubjectLink], facts: list[Fact]) -> dict[str, int]:
    """How many of the rows (one per fact) had a ``kl:`` subject, and how many of those ended
    each way (a :data:`REASONS` key each)."""
    reason = {link.local_id: link.reason for link in links}
    counts = Counter(reason[f.subject_id] for f in facts if f.subject_id in reason)
    return {"local_subject": sum(counts.values()), **{key: counts[key] for key in REASONS}}


def provenance(links: list[SubjectLink]) -> dict:
    """The ``subject_links`` entry of provenance.json: the rule and each subject's outcome."""
    return {"rule": RULE, "subjects": [asdict(link) | {"candidates": list(link.candidates)} for link in links]}
