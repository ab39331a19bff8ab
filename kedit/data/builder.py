"""Build an edit dataset from Wikidata-shaped facts: ``build_dataset(cfg) -> BuiltDataset``.

Steps, each drawing from its own seeded random stream (so changing one step's settings does
not reshuffle the others): choose relations (:mod:`relations`; with a ``split``, only those of
its half, :mod:`splits`) → pick ``per_relation`` facts with distinct subjects per relation →
name the subjects (:mod:`subjects`: one name, one per row, or groups of facts) → set targets
(:mod:`targets`) → render prompts (:mod:`templates`) → add neighbours (:mod:`neighbors`) →
link ``kl:`` subjects to Wikidata items on evidence beyond the name (:mod:`linking`;
only ``subject_id`` can change, and nothing above depends on it).

A row (one edit) carries the Wikidata ids and labels of its fact, the rendered prompts and
the targets; ``prompt`` holds ``{}`` where the subject goes. The fields are listed, with
types and meaning, in ``rows.yaml``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from kedit import __version__
from kedit.data import linking, neighbors, subjects, targets, templates
from kedit.data.config import WikidataConfig, as_dict, parse_config
from kedit.data.facts import Fact, Relation
from kedit.data.relations import select_relations
from kedit.data.sparql import SparqlClient
from kedit.util import canonical_json, sha256


@dataclass
class BuiltDataset:
    """Rows, how they were made, and ``fingerprint`` = sha256 of the canonical JSON of the rows."""

    rows: list[dict]
    spec: dict  # the resolved dataset.wikidata section (defaults filled in)
    provenance: dict
    fingerprint: str


def _rng(seed: int, step: str) -> random.Random:
    """An independent, reproducible stream per step."""
    return random.Random(f"kedit:{seed}:{step}")


class _RecordingSelect:
    """``client.select`` that remembers each query's sha256, row count, the sha256 of its rows
    (the same answer from endpoint, snapshot or cache has the same one) and source: endpoint,
    cache, cache-fallback (the endpoint was unreachable) or embedded (the snapshot, cached or not:
    its cache entries are keyed by the snapshot's sha256, so they are its answers)."""

    def __init__(self, client: SparqlClient):
        self.client = client
        self.log: list[dict] = []

    def __call__(self, query: str) -> list[dict[str, str]]:
        rows = self.client.select(query)
        self.log.append({"sha256": sha256(query), "rows": len(rows), "rows_sha256": sha256(list(rows)), "source": rows.source})
        return rows


def _edit_facts(relations: list[Relation], per_relation: int, rng: random.Random) -> list[Fact]:
    """``per_relation`` facts per relation, about distinct subjects, in relation order."""
    chosen = []
    for relation in relations:
        for subject in rng.sample(relation.subjects, per_relation):
            chosen.append(rng.choice([f for f in relation.facts if f.subject_id == subject]))
    return chosen


def build_dataset(cfg: dict | None, client: SparqlClient | None = None) -> BuiltDataset:
    """Build the rows described by a ``dataset.wikidata`` section.

    ``client`` defaults to ``SparqlClient(cfg["endpoint"])``; a given client decides the
    endpoint. Raises :class:`~kedit.data.errors.ConfigError` for bad settings and
    :class:`~kedit.data.errors.BuildError` when the knowledge base cannot supply them.
    """
    config: WikidataConfig = parse_config(cfg)
    client = client or SparqlClient(config.endpoint)
    select = _RecordingSelect(client)
    where = "the embedded snapshot" if client.embedded else f"endpoint {client.endpoint}"

    selection = select_relations(select, config, _rng(config.seed, "relations"), where)
    facts = _edit_facts(selection.relations, config.per_relation, _rng(config.seed, "facts"))
    policy = subjects.POLICIES[config.subjects.policy]
    names = policy.name_rows(facts, config.subjects, _rng(config.seed, "subjects"), config.split)
    by_id = {r.id: r for r in selection.relations}
    target_rng = _rng(config.seed, "targets")
    goals = [targets.POLICIES[config.target](f, by_id[f.relation_id], target_rng) for f in facts]

    phrases = templates.load_phrases()

    def phrase(relation: Relation) -> str:
        return phrases.get(relation.id, relation.label)

    tpl = config.templates
    neighbourhoods = neighbors.neighbours(
        list(zip(facts, names)), selection.relations, config.neighbors,
        tpl.neighborhood or tpl.edit, phrase, _rng(config.seed, "neighbors"),
    )
    links = linking.link_subjects(facts, select, config.subject_class)
    linked = {link.local_id: link.wikidata_id for link in links if link.wikidata_id}

    rows = []
    for case_id, (fact, name, goal, near) in enumerate(zip(facts, names, goals, neighbourhoods)):
        relation = by_id[fact.relation_id]
        rows.append({
            "case_id": case_id,
            "subject": name,
            "subject_id": linked.get(fact.subject_id, fact.subject_id),
            "subject_label": fact.subject_label,
            "relation_id": relation.id,
            "relation_label": relation.label,
            "relation_phrase": phrase(relation),
            "object_id": fact.object_id,
            "object_label": fact.object_label,
            "prompt": templates.subject_slot(tpl.edit, phrase(relation)),
            "target_new": goal.new,
            "target_new_id": goal.new_id,
            "target_true": goal.true,
            "paraphrase_prompts": [templates.render(p, name, phrase(relation)) for p in tpl.paraphrase],
            "neighborhood_prompts": near,
        })

    provenance = {
        "kedit_version": __version__,
        **client.provenance(),
        "seed": config.seed,
        "queries": select.log,
        "counts": {
            "relations_requested": selection.requested,
            "relations_available": selection.available,
            "relations": len(selection.relations),
            "rows": len(rows),
            "distinct_subjects": len({r["subject"] for r in rows}),
            "local_subjects": linking.row_counts(links, facts),
        },
        "subject_links": linking.provenance(links),
        "allow_fewer_used": len(selection.relations) < selection.requested,
        "dropped_relations": selection.dropped,
        "truncated_relations": selection.truncated,
    }
    return BuiltDataset(rows, as_dict(config), provenance, sha256(canonical_json(rows)))
