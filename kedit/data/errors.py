"""The errors of the data layer; the CLI turns every :class:`DataError` into exit code 2."""

from __future__ import annotations


class DataError(Exception):
    """Base class: a dataset could not be built, read or published; the message says where."""


class ConfigError(DataError, ValueError):
    """A bad ``dataset.wikidata`` value; the message names its key."""


class SparqlError(DataError):
    """A SPARQL query failed; the message names the endpoint and the cause."""


class BuildError(DataError):
    """The knowledge base cannot give what the config asks for; the message names both."""


class DatasetPathError(DataError, FileNotFoundError):
    """A dataset path that does not exist or holds no readable rows."""
