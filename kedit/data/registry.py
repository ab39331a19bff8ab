"""A name → function table that refuses duplicate names and names the known ones on a miss."""

from __future__ import annotations

from collections.abc import Callable


class Registry:
    """Policies of one kind (``kind`` appears in error messages)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, Callable] = {}

    def register(self, name: str) -> Callable[[Callable], Callable]:
        """Decorator: ``@POLICIES.register("same")``."""
        def add(fn: Callable) -> Callable:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = fn
            return fn
        return add

    def __getitem__(self, name: str) -> Callable:
        if name not in self._items:
            raise ValueError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}")
        return self._items[name]

    def check(self, name: str) -> str:
        """Return ``name`` if registered, else raise ValueError naming it (a config validator)."""
        self[name]
        return name

    def names(self) -> list[str]:
        return sorted(self._items)
