"""A method entry's ``sweep``: hyper-parameter name -> values, one run per combination.

The combinations are the cartesian product in the order written, the first name varying
slowest: ``{layers: [A, B], v_lr: [x, y]}`` runs (A, x), (A, y), (B, x), (B, y). The entry's
``hparams`` are the base every combination overrides. Each run is labelled
``<entry label or method name> <name>=<value> ...`` with a field's ``symbol`` where it has one
(``MEMIT λ=3500``), a float without its trailing ``.0`` and a run of three or more consecutive
layers as ``[3..8]`` (``MEMIT layers=[3..8] v_lr=0.5``).

Each combination is parsed through the method's config dataclass, so a value that breaks the
config (``layers`` not ascending, ``v_loss_layer`` below the edited layers) is named with the
combination it breaks. The schema has already checked each value's type, item by item.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable

from kedit.methods.registry import MethodRun, SweepPoint, get_method
from kedit.spec.errors import escape

Grid = list[tuple[int, ...]]  # per combination, the index of its value in each swept list


def grid(sweep: dict[str, list]) -> Grid:
    """Every combination of ``sweep``'s values as indices, in order: the first name varies slowest."""
    return list(itertools.product(*(range(len(values)) for values in sweep.values())))


def value_text(value) -> str:
    """A swept value as a label shows it: ``3500`` for 3500.0, ``[3..8]`` for consecutive layers."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        whole = all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        if whole and len(value) >= 3 and value == list(range(value[0], value[0] + len(value))):
            return f"[{value[0]}..{value[-1]}]"
        return "[" + ",".join(value_text(v) for v in value) + "]"
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if not text or any(c in text for c in ' ="') else text


def point_text(config: type, values: dict) -> str:
    """The swept values of one combination as its label's suffix: ``λ=3500 v_lr=0.5``."""
    names = {f.name: f.metadata.get("symbol", f.name) for f in dataclasses.fields(config)}
    return " ".join(f"{names[k]}={value_text(v)}" for k, v in values.items())


def sweep_runs(i: int, entry: dict, base: dict, problem: Callable[[str, str], None]) -> list[tuple[MethodRun, tuple[int, ...]]]:
    """The runs of the ``i``-th method entry, which has a ``sweep``: (run, its indices in the
    grid), in the sweep's order. ``base``: the hyper-parameters every combination overrides.
    A swept name the entry's ``hparams`` fix too, or a combination its config refuses, is a
    ``problem(pointer, message)``; the runs that parse are returned all the same."""
    sweep, fixed = entry["sweep"], entry.get("hparams") or {}
    both = [name for name in sweep if name in fixed]
    for name in both:
        problem(f"/methods/{i}/hparams/{escape(name)}", f"{name!r} is swept (sweep.{name}) and fixed here too; "
                "the entry's hparams are the base every sweep point overrides: remove it from one of them")
    if both:
        return []
    method, curve = get_method(entry["name"]), entry.get("label") or entry["name"]
    runs, failed = [], {}
    for n, point in enumerate(grid(sweep)):
        values = {name: sweep[name][j] for name, j in zip(sweep, point)}
        text = point_text(method.config, values)
        label = f"{curve} {text}"
        try:
            config = method.parse(base | values)
        except (TypeError, ValueError) as e:
            failed[point] = (label, str(e))
            continue
        runs.append((MethodRun(entry["name"], label, config, entry=i, sweep=SweepPoint(curve, n, values, text)), point))
    for pointer, message in _located(sweep, failed):
        problem(f"/methods/{i}/sweep{pointer}", message)
    return runs


def _located(sweep: dict[str, list], failed: dict[tuple[int, ...], tuple[str, str]]) -> list[tuple[str, str]]:
    """(pointer under the sweep, message) for the combinations that failed: at a value where
    every combination with it failed (``/v_lr/2``, once for them all), else at the sweep."""
    out, told, points = [], set(), grid(sweep)
    for k, name in enumerate(sweep):
        for j in range(len(sweep[name])):
            with_it = [p for p in points if p[k] == j]
            if all(p in failed for p in with_it) and not told.issuperset(with_it):
                label, error = failed[with_it[0]]
                many = f"every sweep point with {name}={value_text(sweep[name][j])} fails, e.g. " if len(with_it) > 1 else "sweep point "
                out.append((f"/{escape(name)}/{j}", f"{many}{label!r}: {error}"))
                told.update(with_it)
    out += [("", f"sweep point {label!r}: {error}") for p, (label, error) in failed.items() if p not in told]
    return out
