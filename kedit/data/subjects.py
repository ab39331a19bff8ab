"""Subject policies: who each edit row is about.

- ``same``: one name for every row (the paper's same-subject set, "John Smith");
- ``distinct``: a different name per row, drawn without replacement (seeded) from a name list;
- ``original``: the real subject's label.

A policy maps (the rows' facts, the ``subjects`` config, a seeded RNG) to one name per row.
"""

from __future__ import annotations

import random
from pathlib import Path

from kedit.data.errors import BuildError
from kedit.data.facts import Fact
from kedit.registry import Registry

BUILTIN_NAMES = Path(__file__).parent / "names" / "names.txt"

POLICIES = Registry("subject policy")


def load_names(source: str | list[str]) -> list[str]:
    """Distinct, sorted names from ``builtin``, a list, or a text file with one name per line."""
    if isinstance(source, list):
        names = source
    else:
        path = BUILTIN_NAMES if source == "builtin" else Path(source)
        try:
            names = path.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise BuildError(f"subjects.names: cannot read name file {path}: {err.strerror}") from err
    return sorted({n.strip() for n in names if n.strip()})


@POLICIES.register("same")
def same(facts: list[Fact], cfg, rng: random.Random) -> list[str]:
    return [cfg.name] * len(facts)


@POLICIES.register("distinct")
def distinct(facts: list[Fact], cfg, rng: random.Random) -> list[str]:
    names = load_names(cfg.names)
    if len(names) < len(facts):
        raise BuildError(f"subjects.names has {len(names)} distinct names but {len(facts)} rows need a distinct subject each")
    return rng.sample(names, len(facts))


@POLICIES.register("original")
def original(facts: list[Fact], cfg, rng: random.Random) -> list[str]:
    return [f.subject_label for f in facts]
