"""Hostile but realistic input, generated: mutated specs through ``kedit validate`` and mutated
dataset rows through ``kedit run``. Whatever the input, kedit exits 0, 1 or 2, never prints a
traceback, and an error names the file it is about.

The fixed cases found this way live in the table-driven catalogues (tests/spec/broken/,
tests/data/); this test keeps looking for new ones.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kedit.cli import main
from tests.tiny import ROWS

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True)

BASE = {
    "name": "fuzz",
    "dataset": {"file": "data.jsonl", "limit": 4},
    "model": {"name": "smollm2-135m"},
    "statistics": {"n_samples": 16, "max_length": 16},
    "hparams": {"MEMIT": {"layers": [1, 2], "v_num_grad_steps": 4, "context_tokens": 0}},
    "methods": [{"name": "MEMIT"}, {"name": "MEMIT-Merge", "label": "merged"},
                {"name": "MEMIT", "label": "swept", "sweep": {"mom2_update_weight": [1.0, 10.0], "layers": [[1, 2], [2, 3]]}}],
    "batch_sizes": [2, 4],
    "seeds": [0],
    "metrics": ["efficacy", "specificity"],
}

# values a mutation may put anywhere: wrong types, edge numbers, braces, NUL, whole-number floats
ODD = st.sampled_from([None, "", "x", "{}", "}{", "Jean {} Dupont", "\x00", "é", 0, -1, 1, 2.0, 2.5, 10**30, float("inf"), True, [], [1.0], ["a", 1], {}, {"a": 1}])


def _paths(value, prefix=()):
    """Every path into a nested spec (keys of mappings, indices of lists)."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


def _mutate(data, path, op, odd):
    """``data`` with the node at ``path`` deleted, replaced by ``odd`` or duplicated in its list."""
    if not path:
        return odd if op == "replace" else data
    parent = data
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    if op == "delete":
        del parent[last]
    elif op == "replace":
        parent[last] = odd
    elif isinstance(parent, list):
        parent.insert(last, parent[last])
    return data


@st.composite
def spec_text(draw) -> bytes:
    data = json.loads(json.dumps(BASE))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(data))
        data = _mutate(data, draw(st.sampled_from(paths)), draw(st.sampled_from(["delete", "replace", "duplicate"])), draw(ODD))
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode() if draw(st.booleans()) else json.dumps(data).encode()
    edit = draw(st.sampled_from(["none", "nul", "truncate", "duplicate_line", "latin1", "brace"]))
    at = draw(st.integers(0, max(len(text) - 1, 0)))
    if edit == "nul":
        text = text[:at] + b"\x00" + text[at:]
    elif edit == "truncate":
        text = text[:at]
    elif edit == "duplicate_line":
        lines = text.split(b"\n")
        i = at % len(lines)
        text = b"\n".join(lines[: i + 1] + lines[i:])
    elif edit == "latin1":
        text = text[:at] + b"\xe9\xff" + text[at:]
    elif edit == "brace":
        text = text[:at] + b"{" + text[at:]
    return text


def _check(res, path, allowed=(0, 1, 2)):
    out = res.output
    assert res.exit_code in allowed, f"exit {res.exit_code}:\n{out}"
    assert "Traceback" not in out, out
    if res.exit_code:
        assert path.name in out, f"the error does not name {path.name}:\n{out}"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path / "cache"))
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return tmp_path


@SETTINGS
@given(text=spec_text())
def test_a_mutated_spec_is_valid_or_gets_a_located_error(folder, text):
    path = folder / "spec.yaml"
    path.write_bytes(text)
    res = CliRunner().invoke(main, ["validate", str(path)])
    _check(res, path)
    if res.exit_code == 1:  # an invalid spec: each problem names the file and a line or a JSON pointer
        problems = [line for line in res.output.splitlines() if line.startswith(str(path))]
        assert problems and all(re.match(rf"{re.escape(str(path))}(:\d+)?: /", p) for p in problems), res.output


ROW_ODD = st.sampled_from([None, "", "{}", "Jean {} Dupont", "A}B", "\x00", 7, 2.5, [], {}, ["x"], [{"prompt": 1}], {"prompt": "p"}])


@st.composite
def rows_text(draw) -> bytes:
    rows = json.loads(json.dumps(ROWS))
    for _ in range(draw(st.integers(1, 3))):
        r = rows[draw(st.integers(0, len(rows) - 1))]
        key = draw(st.sampled_from(sorted(r) + ["extra"]))
        op = draw(st.sampled_from(["delete", "replace", "copy_row"]))
        if op == "delete":
            r.pop(key, None)
        elif op == "replace":
            r[key] = draw(ROW_ODD)
        else:
            rows.append(json.loads(json.dumps(r)))
    lines = [json.dumps(r).encode() for r in rows]
    edit = draw(st.sampled_from(["none", "garbage_line", "nul", "latin1", "truncate", "not_a_mapping"]))
    i = draw(st.integers(0, len(lines) - 1))
    if edit == "garbage_line":
        lines[i] = b"{not json"
    elif edit == "nul":
        lines[i] = lines[i][:5] + b"\x00" + lines[i][5:]
    elif edit == "latin1":
        lines[i] = lines[i] + b"\xff"
    elif edit == "truncate":
        lines[i] = lines[i][: len(lines[i]) // 2]
    elif edit == "not_a_mapping":
        lines[i] = b"[1, 2]"
    return b"\n".join(lines) + b"\n"


@SETTINGS
@given(text=rows_text())
def test_mutated_dataset_rows_run_or_get_a_named_error(folder, text):
    """The model does not exist, so a run whose rows are usable stops at loading it (exit 2,
    naming the model); rows that are not usable stop it before, naming the data file."""
    (folder / "data.jsonl").write_bytes(text)
    spec = dict(BASE, model={"name": str(folder / "no-such-model")})
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    res = CliRunner().invoke(main, ["run", str(path), "--out", str(folder / "out")])
    _check(res, path, allowed=(1, 2))
    assert "no-such-model" in res.output or "data.jsonl" in res.output, res.output
