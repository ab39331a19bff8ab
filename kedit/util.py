"""Plumbing every layer shares: atomic file writes, canonical JSON and its hash, and config
fields that carry their help text, with the JSON Schema generated from them.

Nothing here knows about models, specs or data; every module that writes a file, takes a
fingerprint or declares a config field uses these, so each job has one implementation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import tempfile
import types
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import MISSING, field
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class WriteError(OSError):
    """A file kedit could not write (disk full, no permission, a folder in its place).

    ``filename`` is the file meant, never its temporary; ``str()`` reads
    ``[Errno 28] No space left on device: '/out/report.json'``."""


def _write_error(path: Path, err: OSError) -> WriteError:
    return WriteError(err.errno, err.strerror or str(err), str(path))


def _commit(tmp: Path, path: Path) -> None:
    """Give the finished temporary the mode of a normal new file and move it onto ``path``."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``; when the block ends without error it is moved onto
    ``path`` (a reader never sees a half-written file), else removed.

    The file gets the mode a normal new file gets under the user's umask (``0o666 & ~umask``),
    not the 0600 of a temporary file, so colleagues sharing a folder can read it. A failure to
    write it (an ``OSError`` about the temporary, or about no file: ENOSPC on a write) is raised
    as :class:`WriteError` naming ``path``; other errors of the block pass unchanged.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
    except OSError as e:
        raise _write_error(path, e) from e
    try:
        yield Path(tmp)
        _commit(Path(tmp), path)
    except OSError as e:
        if isinstance(e, WriteError) or e.filename not in (None, tmp):
            raise  # already named, or about another file (e.g. the source of a copy)
        raise _write_error(path, e) from e
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write text (UTF-8) or bytes to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 4 MiB blocks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def canonical_json(value) -> str:
    """JSON with sorted keys and no spaces: the form every fingerprint and key is taken of."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sha256(value) -> str:
    """Hex SHA-256 of a string's UTF-8 bytes, or of any other value's :func:`canonical_json`."""
    return hashlib.sha256((value if isinstance(value, str) else canonical_json(value)).encode()).hexdigest()


def help_field(default=MISSING, help: str = "", **metadata):
    """A dataclass field carrying its help text and JSON Schema keywords (``minimum=0``,
    ``minItems=1``, ...) in its metadata; the spec schema is generated from them.
    A list or dict default is copied for every instance."""
    meta = {"help": help, **metadata}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


# metadata keys of a dataclass field that are JSON Schema keywords
_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems", "uniqueItems", "enum", "pattern")


def type_schema(tp) -> dict:
    """JSON Schema of a Python annotation (the forms the configs use)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [type_schema(a) for a in args]}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (list, tuple):
        return {"type": "array", "items": type_schema(args[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": type_schema(args[1])}
    if dataclasses.is_dataclass(tp):
        return dataclass_schema(tp)
    simple = {int: "integer", float: "number", str: "string", bool: "boolean", type(None): "null"}
    if tp in simple:
        return {"type": simple[tp]}
    raise TypeError(f"no JSON Schema for annotation {tp!r}")


def _default(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
        return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value
    return dataclasses.MISSING


def dataclass_schema(cls, description: str | None = None) -> dict:
    """An object schema: one property per field with its help as description and its default."""
    hints = typing.get_type_hints(cls)
    props = {}
    for f in dataclasses.fields(cls):
        prop = type_schema(hints[f.name])
        if f.metadata.get("help"):
            prop = {"description": f.metadata["help"], **prop}
        for key in _KEYWORDS:
            if key in f.metadata:
                prop[key] = f.metadata[key]
        default = _default(f)
        if default is not dataclasses.MISSING:
            prop["default"] = default
        props[f.name] = prop
    out = {"type": "object", "additionalProperties": False, "properties": props}
    doc = description or (cls.__doc__ or "").strip().split("\n\n")[0]
    return {"description": " ".join(doc.split()), **out} if doc and not doc.startswith(cls.__name__ + "(") else out


def lazy_exports(package: str, where: dict[str, str]):
    """A package's module ``__getattr__`` (PEP 562) that imports each name of ``where``
    (name -> module) on first use: the package itself imports light (no torch), and the
    engine is imported only when one of these names is asked for."""

    def __getattr__(name: str):
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(where[name]), name)

    return __getattr__


#: How many problems :func:`problem_list` spells out before "... and N more".
PROBLEMS_SHOWN = 20


def problem_list(problems: list[str], what: str, limit: int = PROBLEMS_SHOWN) -> str:
    """One problem as itself; several as ``"<n> <what>:"`` and one indented line each, the
    first ``limit`` of them, then ``"... and <rest> more"``: every bad input is reported at
    once, and a file with thousands of them still gives a message one can read."""
    if len(problems) == 1:
        return problems[0]
    lines = [f"{len(problems)} {what}:"] + [f"  {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more")
    return "\n".join(lines)
