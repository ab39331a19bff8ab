"""The errors of the data layer; the CLI turns every :class:`DataError` into exit code 2."""

from __future__ import annotations

from collections.abc import Sequence

from kedit.util import problem_list

#: Where in a spec the section :class:`ConfigError` is about lives.
WIKIDATA_SECTION = "dataset.wikidata"


class DataError(Exception):
    """Base class: a dataset could not be built, read or published; the message says where."""


class ConfigError(DataError, ValueError):
    """A bad ``dataset.wikidata`` value.

    ``path`` holds the keys and list indices that lead to it inside the section
    (``("relations", "ids", 1)``); ``pointer`` is the same as a JSON pointer
    (``/relations/ids/1``, "" for the section itself) and ``reason`` says what is wrong.
    The message names the key as ``dataset.wikidata.relations.ids[1]: <reason>``.
    """

    def __init__(self, reason: str, path: Sequence[str | int] = ()):
        self.reason = reason
        self.path = tuple(path)
        super().__init__(f"{self.key}: {reason}")

    @property
    def pointer(self) -> str:
        return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in self.path)

    @property
    def key(self) -> str:
        return WIKIDATA_SECTION + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path)


class SparqlError(DataError):
    """A SPARQL query failed; the message names the endpoint and the cause."""


class BuildError(DataError):
    """The knowledge base cannot give what the config asks for; the message names both."""


class DatasetPathError(DataError, FileNotFoundError):
    """A dataset path that does not exist or holds no readable rows."""


class DatasetWriteError(DataError):
    """A dataset directory that cannot be written (a file in the way, no permission, disk full)."""


class PublishError(DataError):
    """A dataset that cannot be published: a malformed repository id, offline mode, no token,
    or the Hub refused or could not be reached (nothing was committed)."""


class RowsError(DataError, ValueError):
    """Rows that cannot be used. ``problems`` names each one (file and line, or row index);
    the message lists the first :data:`~kedit.util.PROBLEMS_SHOWN` under a header that counts
    them all (``what``: "bad lines in data.jsonl"), then ``hint``, if any, on a line of its own."""

    def __init__(self, problems: str | Sequence[str], what: str = "bad rows", hint: str = ""):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(problem_list(self.problems, what) + (f"\n{hint}" if hint else ""))


class DatasetFileError(RowsError):
    """A dataset file whose content is not rows: empty, not JSON, not UTF-8 text, binary,
    an unreadable parquet file, a value that is not a row."""
