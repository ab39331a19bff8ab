"""Located problems in spec files, and the error that carries them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    pointer: str  # JSON pointer, "" for the document
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.pointer or '/'}: {self.message}"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class SpecError(Exception):
    """A spec that cannot be read (``unreadable``: exit 2) or is invalid (exit 1); ``problems`` are located messages."""

    def __init__(self, problems: list[Problem], unreadable: bool = False):
        self.problems = problems
        self.unreadable = unreadable
        super().__init__("\n".join(str(p) for p in problems))


def escape(key) -> str:
    """A mapping key as a JSON pointer token."""
    return str(key).replace("~", "~0").replace("/", "~1")
