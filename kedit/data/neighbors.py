"""Specificity neighbours: prompts about other real subjects whose answers must not change.

For each edit row, ``same_relation`` prompts use the row's relation and ``other_relation``
prompts another chosen relation, always about a subject that no edit row is about (by id,
and by label against every edit subject name). Each neighbour is ``{prompt, target}``, the
target being that subject's true object. Subjects with exactly one object for the relation
are preferred (their target is unambiguous); others are used only when too few exist.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from kedit.data import templates
from kedit.data.errors import BuildError
from kedit.data.facts import Fact, Relation


def _candidates(relation: Relation, excluded_ids: set[str], excluded_labels: set[str]) -> tuple[list[Fact], list[Fact]]:
    """(unambiguous, all) facts, one per eligible subject (its first object), sorted."""
    by_subject: dict[str, list[Fact]] = {}
    for fact in relation.facts:
        if fact.subject_id not in excluded_ids and fact.subject_label not in excluded_labels:
            by_subject.setdefault(fact.subject_id, []).append(fact)
    every = [facts[0] for _, facts in sorted(by_subject.items())]
    return [f for f in every if len(by_subject[f.subject_id]) == 1], every


def _draw(pools: tuple[list[Fact], list[Fact]], k: int, rng: random.Random, what: str) -> list[Fact]:
    unambiguous, every = pools
    pool = unambiguous if len(unambiguous) >= k else every
    if len(pool) < k:
        raise BuildError(f"{what}: {len(pool)} other subjects available, {k} neighbour prompts asked")
    return rng.sample(pool, k)


def neighbours(
    edits: list[tuple[Fact, str]],
    relations: list[Relation],
    cfg,
    template: str,
    phrase: Callable[[Relation], str],
    rng: random.Random,
) -> list[list[dict[str, str]]]:
    """For each (fact, subject name) edit, its neighbour prompts ``[{prompt, target}]``."""
    excluded_ids = {fact.subject_id for fact, _ in edits}
    excluded_labels = {name for _, name in edits} | {fact.subject_label for fact, _ in edits}
    pools = {r.id: _candidates(r, excluded_ids, excluded_labels) for r in relations}
    by_id = {r.id: r for r in relations}

    def prompt(fact: Fact) -> dict[str, str]:
        relation = by_id[fact.relation_id]
        return {"prompt": templates.render(template, fact.subject_label, phrase(relation)), "target": fact.object_label}

    result = []
    for fact, _ in edits:
        same = _draw(pools[fact.relation_id], cfg.same_relation, rng, f"relation {fact.relation_id}") if cfg.same_relation else []
        other = []
        if cfg.other_relation:
            rest = [r for r in relations if r.id != fact.relation_id]
            other_pools = ([f for r in rest for f in pools[r.id][0]], [f for r in rest for f in pools[r.id][1]])
            other = _draw(other_pools, cfg.other_relation, rng, f"relations other than {fact.relation_id}")
        result.append([prompt(f) for f in same + other])
    return result
