"""One generic name → item table for methods, metrics and data policies.

It refuses a name registered twice and, on a miss, names what it knows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownName(LookupError, ValueError):
    """A name no entry of the registry has; the message lists the known ones."""


class Registry(Generic[T]):
    """Items of one kind (``kind`` appears in error messages)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: ``@POLICIES.register("same")``."""
        return lambda item: self.add(name, item)

    def __getitem__(self, name: str) -> T:
        if name not in self._items:
            raise UnknownName(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}")
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)

    def items(self):
        return [(n, self._items[n]) for n in self.names()]

    def check(self, name: str) -> str:
        """Return ``name`` if registered, else raise :class:`UnknownName` (a config validator)."""
        self[name]
        return name

    def names(self) -> list[str]:
        return sorted(self._items)
