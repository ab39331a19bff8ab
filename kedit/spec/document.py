"""Read one YAML/JSON spec file, parsed once, into data and a map from JSON pointer to line.

YAML and JSON go through the same YAML parser (libyaml's when it is installed), which keeps
each node's position, so a schema error at ``/methods/0/hparams/v_lr`` can be reported as
``spec.yaml:14``. The composed node tree is checked, mapped to lines, then built into data.

Refused with a located error:
- not UTF-8 text, or a control character such as NUL (a binary file): unreadable (exit 2);
- more than MAX_SPEC_BYTES, more than MAX_SPEC_VALUES values once YAML aliases are expanded
  (a "billion laughs" alias bomb), nesting deeper than MAX_SPEC_DEPTH, or an alias inside
  the node it names: unreadable (exit 2);
- a key written twice in one mapping, at any depth (YAML and JSON readers silently keep the
  last one): invalid (exit 1).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from kedit.spec.errors import Problem, SpecError, escape

MAX_SPEC_BYTES = 10 * 2**20  # shipped specs are a few kB; 10 MiB still parses in seconds
MAX_SPEC_VALUES = 1_000_000  # scalars, lists and mappings, aliases expanded (10 MiB of flow YAML holds fewer)
MAX_SPEC_DEPTH = 64  # levels of nesting; a spec needs about 7

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The safe loader (libyaml's parser when installed); a scalar that its tag cannot be built
    from (``2024-13-45``, ``!!int x``) is a located error instead of a ValueError."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as e:
            tag = node.tag.rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(None, None, f"cannot read {node.value!r} as {tag}: {e}", node.start_mark) from None


def _unreadable(file, line: int | None, message: str, pointer: str = "") -> SpecError:
    return SpecError([Problem(str(file), pointer, line, message)], unreadable=True)


def _line_col(text: str | bytes, position: int) -> tuple[int, int]:
    """1-based line and column of an offset into ``text``."""
    newline = "\n" if isinstance(text, str) else b"\n"
    return text.count(newline, 0, position) + 1, position - (text.rfind(newline, 0, position) + 1) + 1


def _text(path: Path) -> str:
    """The file's text; too large, unreadable or not UTF-8: an unreadable SpecError."""
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise _unreadable(path, None, f"the file has {size:,} bytes; a spec may have at most {MAX_SPEC_BYTES:,} (MAX_SPEC_BYTES)")
        raw = path.read_bytes()
    except OSError as e:
        raise _unreadable(path, None, f"cannot read: {e.strerror or e}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line, col = _line_col(raw, e.start)
        raise _unreadable(path, line, f"not UTF-8 text: byte 0x{raw[e.start]:02x} at line {line}, column {col} (a binary file, or another encoding?)") from None


def _yaml_error(path: Path, text: str, e: yaml.YAMLError) -> SpecError:
    """A parser error as an unreadable SpecError at its line."""
    bad = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if isinstance(e, yaml.reader.ReaderError) and bad:  # positions of libyaml's reader count bytes: find the character
        line, col = _line_col(text, bad.start())
        name = " (NUL)" if bad.group() == "\x00" else ""
        return _unreadable(path, line, f"control character U+{ord(bad.group()):04X}{name} at line {line}, column {col}: not allowed in YAML/JSON (a binary file?)")
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
    where = f" at line {line}, column {col}" if mark else ""
    reason = getattr(e, "problem", None) or getattr(e, "context", None) or str(e)
    return _unreadable(path, line, f"malformed YAML/JSON{where}: {reason}")


def _children(node) -> list[tuple]:
    """(key node or None, JSON pointer token, child node) of a mapping or sequence node."""
    if isinstance(node, yaml.MappingNode):
        return [(k, escape(k.value), v) for k, v in node.value]
    if isinstance(node, yaml.SequenceNode):
        return [(None, str(i), v) for i, v in enumerate(node.value)]
    return []


def _extent(node, pointer: str, file: str, seen: dict, depth: int = 0) -> tuple[int, int]:
    """(values under ``node`` with aliases expanded, levels of nesting below it), memoised by
    node in ``seen`` so an alias costs one lookup. Too deep, or recursive: unreadable SpecError."""
    line = node.start_mark.line + 1
    if id(node) in seen:
        if seen[id(node)] is None:
            raise _unreadable(file, line, "an alias refers to a node that contains it (a recursive alias)", pointer)
        if depth + seen[id(node)][1] > MAX_SPEC_DEPTH:
            raise _unreadable(file, line, f"nested more than {MAX_SPEC_DEPTH} levels deep (MAX_SPEC_DEPTH)", pointer)
        return seen[id(node)]
    if depth > MAX_SPEC_DEPTH:
        raise _unreadable(file, line, f"nested more than {MAX_SPEC_DEPTH} levels deep (MAX_SPEC_DEPTH)", pointer)
    seen[id(node)] = None
    size, height = 1, 0
    for _, token, child in _children(node):
        s, h = _extent(child, f"{pointer}/{token}", file, seen, depth + 1)
        size, height = size + s, max(height, h + 1)
    seen[id(node)] = (size, height)
    return size, height


def check_bounds(node, file: str) -> None:
    """Refuse a document too deep, recursive, or holding more than MAX_SPEC_VALUES values once
    its aliases are expanded (located at the innermost value that alone is too large)."""
    seen: dict = {}
    size, _ = _extent(node, "", file, seen)
    if size <= MAX_SPEC_VALUES:
        return
    pointer, line = "", node.start_mark.line + 1
    while big := [(k, t, c) for k, t, c in _children(node) if seen[id(c)][0] > MAX_SPEC_VALUES]:
        key, token, node = big[0]
        pointer, line = f"{pointer}/{token}", (key or node).start_mark.line + 1
    how = " once its YAML aliases (*name) are expanded (an alias bomb?)" if len(seen) < size else ""
    raise _unreadable(file, line, f"the document holds {size:,} values{how}; a spec may hold at most {MAX_SPEC_VALUES:,} (MAX_SPEC_VALUES)", pointer)


def duplicate_keys(node, file: str) -> list[Problem]:
    """A problem for every key written a second time in the same mapping, at any depth."""
    problems, done, todo = [], set(), [(node, "")]
    while todo:
        node, pointer = todo.pop()
        if id(node) in done:  # an alias: its node was checked where it was anchored
            continue
        done.add(id(node))
        first: dict = {}
        for key, token, child in _children(node):
            todo.append((child, f"{pointer}/{token}"))
            if key is None or not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                continue
            line = key.start_mark.line + 1
            if (key.tag, key.value) in first:
                message = f"key {key.value!r} written twice in this mapping (first at line {first[key.tag, key.value]}); only the last would be kept: merge or delete one"
                problems.append(Problem(file, f"{pointer}/{token}", line, message))
            else:
                first[key.tag, key.value] = line
    return sorted(problems, key=lambda p: (p.line or 0, p.pointer))


def _lines(node, pointer: str, file: str, out: dict) -> None:
    """Map every JSON pointer under ``node`` to (file, 1-based line); a mapping entry points at its key."""
    out[pointer] = (file, node.start_mark.line + 1)
    for key, token, child in _children(node):
        _lines(child, f"{pointer}/{token}", file, out)
        if key is not None:
            out[f"{pointer}/{token}"] = (file, key.start_mark.line + 1)


def read_document(path: Path) -> tuple[object, dict]:
    """Parse one YAML/JSON file once: (data, pointer -> (file, line)). Raises :class:`SpecError`."""
    path = Path(path)
    text = _text(path)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        check_bounds(node, str(path))
        duplicates = duplicate_keys(node, str(path))
        if duplicates:
            raise SpecError(duplicates)
        lines: dict = {}
        _lines(node, "", str(path), lines)  # before construction: it merges `<<` keys into the node
        return loader.construct_document(node), lines
    except yaml.YAMLError as e:
        raise _yaml_error(path, text, e) from None
    except RecursionError:  # the pure-Python parser recurses per nesting level
        raise _unreadable(path, None, f"nested too deeply (a spec may nest at most {MAX_SPEC_DEPTH} levels)") from None
    finally:
        loader.dispose()
