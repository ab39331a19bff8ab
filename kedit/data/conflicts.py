"""Contradictory and duplicate edits in a dataset, and the declared policy that handles them.

Two edits *collide* when they are about the same subject and either the same relation
(``relation_id``) or the same edit prompt (the sentence, subject filled in), compared after
collapsing white space. Colliding edits that teach the same new target are *duplicates*: one
fact counted twice, and weighted twice in a batch. Those that teach different targets
*contradict* each other: no model can satisfy both, and MEMIT-Merge fits one shared value to
several answers. Real benchmark files hold both (MEND's zsRE evaluation set has one
subject-question pair with six different new answers). Collisions chain: a group holds
every row linked to another by subject and relation or subject and prompt.

``dataset.conflicts`` says what to do with them (:data:`POLICIES`); every policy records what
it found in the dataset's provenance (:func:`resolve`), so a report says which rows collided
and which were dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kedit.data.errors import RowsError
from kedit.registry import Registry
from kedit.util import PROBLEMS_SHOWN


class Edit(Protocol):
    """What collision detection reads of an edit (:class:`kedit.editing.requests.EditRequest` has it)."""

    subject: str
    relation_id: str | None
    text: str  # the edit prompt with its subject filled in
    target_new: str


class ConflictError(RowsError):
    """A dataset with contradictory or duplicate edits under the ``error`` policy."""


@dataclass(frozen=True)
class Collision:
    """Rows (indices, ascending) that edit the same subject's same relation or prompt."""

    rows: tuple[int, ...]
    subject: str
    on: str  # "relation P19" or "prompt \"John Smith's birthplace is\""
    targets: tuple[str, ...]  # each row's new target

    @property
    def contradictory(self) -> bool:
        return len(set(self.targets)) > 1


def _norm(text: str) -> str:
    return " ".join(text.split())


def _groups(edits: Sequence[Edit]) -> list[list[int]]:
    """Indices linked by (subject, relation) or (subject, prompt), as sorted groups of two or more."""
    parent = list(range(len(edits)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple, int] = {}
    for i, e in enumerate(edits):
        subject = _norm(e.subject)
        keys = [(subject, "prompt", _norm(e.text))] + ([(subject, "relation", e.relation_id)] if e.relation_id else [])
        for key in keys:
            j = first.setdefault(key, i)
            parent[root(i)] = root(j)
    members: dict[int, list[int]] = {}
    for i in range(len(edits)):
        members.setdefault(root(i), []).append(i)
    return sorted((g for g in members.values() if len(g) > 1), key=lambda g: g[0])


def find_collisions(edits: Sequence[Edit]) -> list[Collision]:
    """Every group of colliding edits, in order of its first row."""
    out = []
    for rows in _groups(edits):
        head = edits[rows[0]]
        same_relation = head.relation_id and all(edits[i].relation_id == head.relation_id for i in rows)
        on = f"relation {head.relation_id}" if same_relation else f"prompt {head.text!r}"
        out.append(Collision(tuple(rows), head.subject, on, tuple(_norm(edits[i].target_new) for i in rows)))
    return out


@dataclass(frozen=True)
class Policy:
    """``drop(collisions)``: the rows to leave out; ``refuse``: fail instead of running."""

    help: str
    drop: Callable[[list[Collision]], list[int]]
    refuse: bool = False


POLICIES: Registry[Policy] = Registry("conflicts policy")
POLICIES.add("error", Policy("refuse the dataset and name every group (exit 2)", lambda cs: [], refuse=True))
POLICIES.add("warn", Policy("keep every row; warn and record the groups", lambda cs: []))
POLICIES.add("keep_first", Policy("keep the first row of each group (file order)", lambda cs: [i for c in cs for i in c.rows[1:]]))
POLICIES.add("keep_last", Policy("keep the last row of each group (file order)", lambda cs: [i for c in cs for i in c.rows[:-1]]))
POLICIES.add("drop", Policy(
    "drop every row of a contradictory group; keep the first of duplicates",
    lambda cs: [i for c in cs for i in (c.rows if c.contradictory else c.rows[1:])]))

#: The default refuses: a silent choice would change what is measured, and a warning lets
#: numbers from contradictory edits into a paper. The message says how to choose.
DEFAULT = "error"


def describe(c: Collision, where: Callable[[int], str], index: Callable[[int], int] = lambda i: i) -> str:
    """One line: where the group starts, its subject and key, its rows and targets."""
    rows = ", ".join(str(index(i)) for i in c.rows)
    if c.contradictory:
        taught = f"contradictory new targets {', '.join(map(repr, c.targets))}"
    else:
        taught = f"the same new target {c.targets[0]!r} {len(c.rows)} times"
    return f"{where(c.rows[0])}: subject {c.subject!r}, {c.on}: rows {rows} teach {taught}"


@dataclass
class Resolution:
    """What a policy made of a dataset: ``kept`` row indices, the ``provenance`` entry, and
    the ``lines`` to show on the console (empty when nothing collided; the groups after the
    first :data:`~kedit.util.PROBLEMS_SHOWN` counted, not listed)."""

    kept: list[int]
    provenance: dict
    lines: list[str]


def resolve(edits: Sequence[Edit], policy: str = DEFAULT, where: Callable[[int], str] = lambda i: f"row {i}",
            index: Callable[[int], int] = lambda i: i) -> Resolution:
    """Find collisions among ``edits`` and apply ``policy``. ``where(i)`` names edit ``i`` in
    messages (a file's line), ``index(i)`` gives the row number recorded in the provenance
    (the row of the file). Raises :class:`ConflictError` under a refusing policy."""
    rule = POLICIES[policy]
    found = find_collisions(edits)
    problems = [describe(c, where, index) for c in found]
    if found and rule.refuse:
        choices = " | ".join(n for n, p in POLICIES.items() if not p.refuse)
        raise ConflictError(problems, "groups of contradictory or duplicate edits",
                            f"set dataset.conflicts to {choices} to run anyway (README: Contradictory and duplicate edits)")
    dropped = sorted(rule.drop(found))
    provenance = {
        "policy": policy,
        "contradictory": [[index(i) for i in c.rows] for c in found if c.contradictory],
        "duplicates": [[index(i) for i in c.rows] for c in found if not c.contradictory],
        "dropped_rows": [index(i) for i in dropped],
    }
    lines = []
    if found:
        n_bad = sum(c.contradictory for c in found)
        head = (f"{n_bad} group(s) of contradictory edits and {len(found) - n_bad} of duplicates; "
                f"conflicts: {policy} ({rule.help}): {len(dropped)} row(s) dropped")
        lines = [head] + problems[:PROBLEMS_SHOWN]
        lines += [f"... and {len(problems) - PROBLEMS_SHOWN} more"] if len(problems) > PROBLEMS_SHOWN else []
    drop = set(dropped)
    return Resolution([i for i in range(len(edits)) if i not in drop], provenance, lines)
