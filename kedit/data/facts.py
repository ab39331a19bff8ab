"""Facts as the builder sees them: ids compacted ("Q42", "P19", "kl:x"), labels attached."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Fact:
    """One statement ``subject relation object`` with English (or ``language``) labels; ids compacted."""

    relation_id: str
    subject_id: str
    object_id: str
    subject_label: str
    object_label: str


@dataclass
class Relation:
    """A property with its label and the facts fetched for it."""

    id: str
    label: str
    facts: list[Fact] = field(default_factory=list)  # sorted, no duplicates

    @property
    def subjects(self) -> list[str]:
        return sorted({f.subject_id for f in self.facts})

    @property
    def objects(self) -> list[str]:
        return sorted({f.object_label for f in self.facts})
