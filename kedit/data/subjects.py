"""Subject policies: who each edit row is about.

The builder gives a policy the rows' facts: ``per_relation`` facts about distinct real
subjects for each chosen relation, in relation order. With ``target: object`` a row teaches
its fact's real object about the name the policy gives it, so a name is a fictitious person
whose profile is the facts it receives.

- ``same``: one name (``subjects.name``) for every row: the paper's same-subject set, one
  person with every fact ("John Smith").
- ``distinct``: a different name per row, drawn without replacement (seeded) from the name
  list: the paper's distinct-subject control.
- ``grouped``: ``groups`` names × ``facts`` facts each ("updating a person's profile",
  several people at once): the generalisation of both; on the same facts, 1 × n gives the
  rows of ``same`` (with a drawn name) and n × 1 those of ``distinct``.
- ``mixed``: ``groups`` names × ``facts`` facts, plus ``singles`` names with one fact each
  (a batch of profiles among single edits).
- ``original``: the real subject's label.

``grouped`` and ``mixed`` draw their names as ``distinct`` does and leave the rows in the
builder's order (relation order): only the ``subject`` of each row depends on the grouping.
A subject's facts have distinct relations (no person gets two birthplaces). The group sizes
must add up to the rows exactly, and a group of ``facts`` needs that many relations: what
the knowledge base cannot supply is a :class:`~kedit.data.errors.BuildError` naming what is
short, never a smaller set. Which facts form a group is seeded (:func:`assign_groups`).

With a ``split`` (:mod:`splits`), names come from the split's half of the list, so ``tune``
and ``test`` never share a subject; ``same`` needs its name to lie in that half, and
``original`` (the real subjects, which both halves' facts may share) refuses a split.

A policy is a :class:`Policy`: ``name_rows(facts, cfg, rng, split)`` → one name per row,
the ``subjects`` keys it needs, and a check of its settings that
:func:`kedit.data.config.parse_config` runs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kedit.data import splits
from kedit.data.errors import BuildError, ConfigError
from kedit.data.facts import Fact
from kedit.registry import Registry

BUILTIN_NAMES = Path(__file__).parent / "names" / "names.txt"
#: The ``subjects`` keys without a default: set only for the policies that need them.
SHAPE_KEYS = ("groups", "facts", "singles")


@dataclass(frozen=True)
class Known:
    """What the rest of a ``dataset.wikidata`` section fixes before the build:
    ``relations`` (``None`` when the knowledge base decides), ``per_relation`` and ``split``."""

    relations: int | None
    per_relation: int
    split: str


@dataclass(frozen=True)
class Policy:
    """``name_rows(facts, cfg, rng, split)`` → one name per row; ``needs``: the
    :data:`SHAPE_KEYS` it reads; ``check(cfg, known)`` raises :class:`ConfigError` for
    settings it cannot build."""

    name_rows: Callable[[list[Fact], object, random.Random, str], list[str]]
    needs: tuple[str, ...] = ()
    check: Callable[[object, Known], None] = lambda cfg, known: None


POLICIES: Registry[Policy] = Registry("subject policy")


def load_names(source: str | list[str], split: str = "all") -> list[str]:
    """Distinct, sorted names from ``builtin``, a list, or a text file with one name per line;
    with a ``split``, only those of its half."""
    if isinstance(source, list):
        names = source
    else:
        path = BUILTIN_NAMES if source == "builtin" else Path(source)
        try:
            names = path.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise BuildError(f"subjects.names: cannot read name file {path}: {err.strerror}") from err
    return sorted({n.strip() for n in names if n.strip() and splits.keeps(split, n.strip())})


def draw_names(cfg, count: int, split: str, rng: random.Random, what: str) -> list[str]:
    """``count`` distinct names from ``cfg.names`` (the split's half), seeded; ``what`` says
    who needs them in the error when the list is too short."""
    names = load_names(cfg.names, split)
    if len(names) < count:
        half = "" if split == "all" else f" in the {split} split's half"
        raise BuildError(f"subjects.names has {len(names)} distinct names{half} but {what}")
    return rng.sample(names, count)


def sizes(cfg) -> list[int]:
    """Facts per subject: ``groups`` × ``facts``, then ``singles`` × 1 (``mixed``)."""
    return [cfg.facts] * cfg.groups + [1] * (cfg.singles or 0)


def shape(cfg) -> str:
    """``"10 x 10"`` or ``"5 x 10 + 50 x 1"``, for messages."""
    return f"{cfg.groups} x {cfg.facts}" + (f" + {cfg.singles} x 1" if cfg.singles else "")


def shortfall(cfg, relations: int, rows: int) -> tuple[str, str] | None:
    """(``subjects`` key, reason) when ``relations`` relations giving ``rows`` rows cannot be
    split into :func:`sizes`, else ``None``. Each relation gives the same number of rows, so
    the sizes fit exactly when they add up to ``rows`` and none exceeds ``relations``."""
    need = sum(sizes(cfg))
    if need != rows:
        return "groups", f"policy {cfg.policy!r} with {shape(cfg)} needs {need} rows but the set has {rows}"
    if cfg.facts > relations:
        return "facts", (f"{cfg.facts} facts per subject need {cfg.facts} distinct relations but the set has "
                         f"{relations}")
    return None


def assign_groups(facts: list[Fact], group_sizes: list[int], rng: random.Random) -> list[int]:
    """The group index of each row: group ``g`` gets ``group_sizes[g]`` rows of distinct relations.

    Greedy, largest group first: a group takes the next row of each of the relations with the
    most rows left, ties in a seeded order. Since every relation starts with the same number
    of rows, the counts left never differ by more than one, so this succeeds whenever
    :func:`shortfall` finds nothing (the Gale-Ryser condition)."""
    left: dict[str, list[int]] = {}  # relation id -> its unassigned rows, in row order
    for i, fact in enumerate(facts):
        left.setdefault(fact.relation_id, []).append(i)
    order = sorted(left)
    rng.shuffle(order)
    owner = [-1] * len(facts)
    for g in sorted(range(len(group_sizes)), key=lambda g: -group_sizes[g]):
        for relation in sorted(order, key=lambda r: -len(left[r]))[: group_sizes[g]]:
            owner[left[relation].pop(0)] = g
    return owner


def _name_in_split(cfg, known: Known) -> None:
    if not splits.keeps(known.split, cfg.name):
        example = load_names("builtin", known.split)[0]
        raise ConfigError(f"{cfg.name!r} belongs to the {splits.half(cfg.name)} split's half of names; split "
                          f"{known.split!r} needs a name of its own half (e.g. {example!r}), so that the splits "
                          "share no subject", ("subjects", "name"))


def _check_shape(cfg, known: Known) -> None:
    if known.relations is not None and (problem := shortfall(cfg, known.relations, known.relations * known.per_relation)):
        key, reason = problem
        raise ConfigError(f"{reason} ({known.relations} relations x per_relation {known.per_relation})",
                          ("subjects", key))


def _no_split(cfg, known: Known) -> None:
    if known.split != "all":
        raise ConfigError(f"policy 'original' keeps the real subjects, which the tune and test facts may share; "
                          f"split {known.split!r} needs a policy that names the subjects (same, distinct, grouped "
                          "or mixed)", ("split",))


def _same(facts: list[Fact], cfg, rng: random.Random, split: str) -> list[str]:
    return [cfg.name] * len(facts)


def _distinct(facts: list[Fact], cfg, rng: random.Random, split: str) -> list[str]:
    return draw_names(cfg, len(facts), split, rng, f"{len(facts)} rows need a distinct subject each")


def _grouped(facts: list[Fact], cfg, rng: random.Random, split: str) -> list[str]:
    relations = len({f.relation_id for f in facts})
    if problem := shortfall(cfg, relations, len(facts)):
        raise BuildError(f"subjects.{problem[0]}: {problem[1]} (the knowledge base supplied {relations} relations)")
    group_sizes = sizes(cfg)
    names = draw_names(cfg, len(group_sizes), split, rng, f"{shape(cfg)} needs {len(group_sizes)} subjects")
    return [names[g] for g in assign_groups(facts, group_sizes, rng)]


def _original(facts: list[Fact], cfg, rng: random.Random, split: str) -> list[str]:
    return [f.subject_label for f in facts]


POLICIES.add("same", Policy(_same, check=_name_in_split))
POLICIES.add("distinct", Policy(_distinct))
POLICIES.add("grouped", Policy(_grouped, needs=("groups", "facts"), check=_check_shape))
POLICIES.add("mixed", Policy(_grouped, needs=("groups", "facts", "singles"), check=_check_shape))
POLICIES.add("original", Policy(_original, check=_no_split))


def check(cfg, known: Known) -> None:
    """The ``subjects`` section against its policy: the keys it needs are set, the keys it
    ignores are not, and its own check passes. Raises :class:`ConfigError` naming the key."""
    policy = POLICIES[cfg.policy]
    missing = [f"subjects.{key}" for key in policy.needs if getattr(cfg, key) is None]
    if missing:
        raise ConfigError(f"policy {cfg.policy!r} needs {' and '.join(missing)}", ("subjects",))
    for key in SHAPE_KEYS:
        if key not in policy.needs and getattr(cfg, key) is not None:
            users = [name for name, p in POLICIES.items() if key in p.needs]
            kind = "policy" if len(users) == 1 else "policies"
            raise ConfigError(f"used only by the {' and '.join(users)} {kind}, not by {cfg.policy!r}", ("subjects", key))
    policy.check(cfg, known)
