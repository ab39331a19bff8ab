"""Target policies: what each edit teaches.

- ``object``: ``target_new`` is the fact's object (the paper: facts moved onto fictitious
  subjects); ``target_true`` is None, since the (fictitious) subject has no true object.
- ``counterfactual``: ``target_new`` is an object of the same relation taken from another fact
  and not true of this subject; ``target_true`` is the real object.

A policy maps (the fact, its relation, a seeded RNG) to a :class:`Target`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from kedit.data.errors import BuildError
from kedit.data.facts import Fact, Relation
from kedit.registry import Registry

POLICIES = Registry("target policy")


@dataclass(frozen=True)
class Target:
    new: str
    new_id: str
    true: str | None


@POLICIES.register("object")
def object_target(fact: Fact, relation: Relation, rng: random.Random) -> Target:
    return Target(fact.object_label, fact.object_id, None)


@POLICIES.register("counterfactual")
def counterfactual(fact: Fact, relation: Relation, rng: random.Random) -> Target:
    true_labels = {f.object_label for f in relation.facts if f.subject_id == fact.subject_id}
    others = {}
    for f in relation.facts:  # sorted, so each label keeps its first (smallest) id
        if f.object_label not in true_labels:
            others.setdefault(f.object_label, f.object_id)
    if not others:
        raise BuildError(f"relation {relation.id}: no object other than {sorted(true_labels)} "
                         f"for a counterfactual target of {fact.subject_id}")
    label = rng.choice(sorted(others))
    return Target(label, others[label], fact.object_label)
