"""The shipped Wikidata snapshot as an in-process SPARQL endpoint (pyoxigraph).

Used when the endpoint is ``offline`` or ``snapshot``: the builder's queries run unchanged on
an in-memory store loaded from ``kedit/data/wikidata/snapshot.ttl``, so ``kedit data build``
works with no server and no network. Rows have the shape of SPARQL JSON results reduced to
values, exactly as :class:`kedit.data.sparql.SparqlClient` returns them from a server.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import pyoxigraph

from kedit.data.errors import SparqlError

SNAPSHOT = Path(__file__).parent / "wikidata" / "snapshot.ttl"

#: Endpoint values that select the embedded snapshot.
NAMES = frozenset({"offline", "snapshot"})


class EmbeddedEndpoint:
    """A pyoxigraph store holding ``path`` (the shipped snapshot by default), loaded on first query."""

    def __init__(self, path: Path | str = SNAPSHOT):
        self.path = Path(path)
        self._store: pyoxigraph.Store | None = None

    @functools.cached_property
    def fingerprint(self) -> str:
        """sha256 of the snapshot file."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    @property
    def cache_name(self) -> str:
        """What a cached result of this store depends on: the snapshot's content and the engine."""
        return f"embedded:{self.fingerprint}:pyoxigraph-{pyoxigraph.__version__}"

    def _loaded(self) -> pyoxigraph.Store:
        if self._store is None:
            store = pyoxigraph.Store()
            store.bulk_load(path=str(self.path), format=pyoxigraph.RdfFormat.TURTLE)
            self._store = store
        return self._store

    def select(self, query: str) -> list[dict[str, str]]:
        """Run a SELECT query; unbound variables are left out of a row, as in SPARQL JSON."""
        try:
            solutions = self._loaded().query(query)
        except SyntaxError as err:
            raise SparqlError(f"embedded snapshot {self.path}: query rejected: {err}") from err
        if not isinstance(solutions, pyoxigraph.QuerySolutions):
            raise SparqlError(f"embedded snapshot {self.path}: only SELECT queries are supported")
        names = [v.value for v in solutions.variables]
        return [
            {name: solution[name].value for name in names if solution[name] is not None}
            for solution in solutions
        ]
