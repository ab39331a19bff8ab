"""Choose the relations of a dataset and fetch their facts.

Three sources of candidates, picked by the config:

- ``discovery`` (the paper): properties of ``relations.value_types`` (items by default) used
  on the subject class with labels, counted by :func:`queries.relation_discovery`; each
  chosen relation's facts come from :func:`queries.relation_facts`.
- ``ids``: the listed P-ids, labelled by :func:`queries.relation_labels`, facts as above.
- ``query``: a raw SELECT returning every fact at once (its relations are the candidates).

With ``split`` ``tune`` or ``test``, only the candidates of that half (:mod:`splits`) are
kept, before the sample; ``where`` then names the split in errors.

A relation is usable when it has enough distinct subjects for its edit rows and for its
same-relation neighbours (and, for counterfactual targets, two distinct objects). Candidates
are sorted by P-id before the seeded sample, so a run depends only on the seed and the facts.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from kedit.data import queries, splits
from kedit.data.config import WikidataConfig
from kedit.data.errors import BuildError
from kedit.data.facts import Fact, Relation

log = logging.getLogger(__name__)

Select = Callable[[str], list[dict[str, str]]]
RAW_COLUMNS = ("subject", "subjectLabel", "relation", "relationLabel", "object", "objectLabel")


@dataclass
class Selection:
    """The chosen relations (sorted by P-id) and what the knowledge base offered."""

    relations: list[Relation]
    requested: int
    available: int
    dropped: list[str]  # usable-looking ids left out because they fell short (allow_fewer)
    truncated: list[str]  # relations whose fact query hit its LIMIT


def sort_key(relation_id: str) -> tuple:
    """P-ids in numeric order (P19 < P106); other ids after them, alphabetically."""
    match = re.fullmatch(r"P(\d+)", relation_id)
    return (0, int(match.group(1)), "") if match else (1, 0, relation_id)


def _fact(row: dict[str, str], relation_id: str) -> Fact:
    return Fact(relation_id, queries.compact(row["subject"]), queries.compact(row["object"]),
                row["subjectLabel"], row["objectLabel"])


def _need(cfg: WikidataConfig) -> tuple[int, int]:
    """(distinct subjects, distinct objects) a relation must have to be usable."""
    subjects = max(cfg.per_relation + cfg.neighbors.same_relation, 1)
    return subjects, 2 if cfg.target == "counterfactual" else 1


def _shortfall(relation: Relation, cfg: WikidataConfig) -> str | None:
    subjects, objects = _need(cfg)
    if not relation.facts:
        return f"relation {relation.id} returned no facts"
    if len(relation.subjects) < subjects:
        return (f"relation {relation.id} has {len(relation.subjects)} subjects; {subjects} are needed "
                f"({cfg.per_relation} per relation + {cfg.neighbors.same_relation} same-relation neighbours)")
    if len(relation.objects) < objects:
        return f"relation {relation.id} has {len(relation.objects)} distinct object(s); a counterfactual target needs {objects}"
    return None


def _fetch_facts(select: Select, relation_id: str, cfg: WikidataConfig, truncated: list[str]) -> list[Fact]:
    limit = cfg.relations.pool
    rows = select(queries.relation_facts(relation_id, cfg.language, limit, cfg.subject_class,
                                         cfg.relations.value_types))
    if len(rows) >= limit:
        log.warning("relation %s: the fact query hit its LIMIT %d; the draw depends on the endpoint's row order",
                    relation_id, limit)
        truncated.append(relation_id)
    return sorted({_fact(r, relation_id) for r in rows})


def _discovered(select: Select, cfg: WikidataConfig) -> list[tuple[str, str]]:
    """(P-id, label) of the usable properties found on the subject class."""
    rows = select(queries.relation_discovery(cfg.language, cfg.relations.scan_humans, cfg.subject_class,
                                             cfg.relations.value_types))
    if not rows:
        raise BuildError(f"relation discovery returned zero rows: no labelled facts on instances of {cfg.subject_class}")
    subjects, objects = _need(cfg)
    return sorted(
        {
            (queries.compact(r["relation"]), r["relationLabel"])
            for r in rows
            if queries.compact(r["relation"]) not in cfg.relations.exclude
            and int(r["subjects"]) >= max(subjects, cfg.relations.min_subjects)
            and int(r["objects"]) >= objects
        },
        key=lambda c: sort_key(c[0]),
    )


def _listed(select: Select, cfg: WikidataConfig) -> list[tuple[str, str]]:
    """(P-id, label) of ``relations.ids``; an id without a label is an error."""
    ids = sorted({p for p in cfg.relations.ids if p not in cfg.relations.exclude}, key=sort_key)
    rows = select(queries.relation_labels(ids, cfg.language))
    labels = {queries.compact(r["relation"]): r["relationLabel"] for r in rows}
    missing = [p for p in ids if p not in labels]
    if missing:
        raise BuildError(f"relations.ids: {', '.join(missing)} has no {cfg.language!r} label "
                         "(not a property of this knowledge base?)")
    return [(p, labels[p]) for p in ids]


def _raw(select: Select, cfg: WikidataConfig) -> dict[str, Relation]:
    """Every fact of the raw query, grouped by relation."""
    rows = select(cfg.query)
    if not rows:
        raise BuildError("dataset.wikidata.query returned zero rows")
    missing = [c for c in RAW_COLUMNS if c not in rows[0]]
    if missing:
        raise BuildError(f"dataset.wikidata.query: the result lacks ?{', ?'.join(missing)} "
                         f"(it must return ?{', ?'.join(RAW_COLUMNS)})")
    relations: dict[str, Relation] = {}
    for row in rows:
        pid = queries.compact(row["relation"])
        relations.setdefault(pid, Relation(pid, row["relationLabel"])).facts.append(_fact(row, pid))
    for relation in relations.values():
        relation.facts = sorted(set(relation.facts))
    return relations


def _from_query(pool: dict[str, Relation], cfg: WikidataConfig) -> list[tuple[str, str]]:
    """(P-id, label) of the raw query's usable relations, restricted to ``relations.ids`` if given."""
    wanted = cfg.relations.ids
    if wanted is not None and (absent := [p for p in wanted if p not in pool]):
        raise BuildError(f"relations.ids: {', '.join(absent)} not in the result of dataset.wikidata.query")
    return [
        (p, pool[p].label)
        for p in sorted(pool, key=sort_key)
        if p not in cfg.relations.exclude and (wanted is None or p in wanted) and _shortfall(pool[p], cfg) is None
    ]


def _sample(candidates: list, cfg: WikidataConfig, rng: random.Random, where: str) -> list:
    """Seeded sample of ``relations.sample`` candidates (all if null); too few fails unless allow_fewer."""
    wanted = cfg.relations.sample
    if wanted is None:
        return list(candidates)
    if len(candidates) < wanted:
        message = f"asked for {wanted} relations but {where} offers only {len(candidates)} usable ones"
        if not cfg.relations.allow_fewer:
            raise BuildError(message + " (set relations.allow_fewer: true to build with fewer)")
        log.warning("%s; building with %d (allow_fewer)", message, len(candidates))
        return list(candidates)
    return rng.sample(candidates, wanted)


def select_relations(select: Select, cfg: WikidataConfig, rng: random.Random, where: str) -> Selection:
    """Candidates → seeded sample → facts of each; ``where`` names the knowledge base in errors."""
    truncated: list[str] = []
    pool = _raw(select, cfg) if cfg.query is not None else None
    if pool is not None:
        candidates = _from_query(pool, cfg)
    else:
        candidates = _listed(select, cfg) if cfg.relations.ids is not None else _discovered(select, cfg)
    if cfg.split != "all":
        candidates = [c for c in candidates if splits.keeps(cfg.split, c[0])]
        where = f"{where} (split {cfg.split}: the relations of its half)"
    chosen, dropped = [], []
    for pid, label in sorted(_sample(candidates, cfg, rng, where), key=lambda c: sort_key(c[0])):
        facts = pool[pid].facts if pool is not None else _fetch_facts(select, pid, cfg, truncated)
        relation = Relation(pid, label, facts)
        problem = _shortfall(relation, cfg)
        if problem is None:
            chosen.append(relation)
        elif cfg.relations.allow_fewer:
            log.warning("%s at %s; left out (allow_fewer)", problem, where)
            dropped.append(pid)
        else:
            raise BuildError(f"{problem} at {where}")
    requested = cfg.relations.sample or len(candidates)
    return Selection(chosen, requested, len(candidates), dropped, truncated)
