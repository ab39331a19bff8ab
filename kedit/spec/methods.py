"""A spec's method entries as the runs of a report: each parsed into its config, a ``sweep``
expanded in place (:mod:`kedit.spec.sweep`), every label checked to name one run."""

from __future__ import annotations

from collections.abc import Callable

from kedit.methods.registry import MethodRun
from kedit.spec.errors import escape
from kedit.spec.sweep import sweep_runs

ProblemAt = Callable[[str, str], None]  # problem(JSON pointer, message): records a located problem


def resolve_methods(entries: list[dict], defaults: Callable[[str], dict], problem: ProblemAt) -> list[MethodRun]:
    """The runs of ``entries`` (the spec's ``methods``), in order. ``defaults(name)``: the
    hyper-parameters under an entry's own (the model's presets, then the spec's ``hparams``).
    A config that does not parse, a bad sweep or a label two runs share is a ``problem``."""
    runs: list[tuple[MethodRun, tuple[int, ...] | None]] = []
    for i, entry in enumerate(entries):
        base = {**defaults(entry["name"]), **(entry.get("hparams") or {})}
        if "sweep" in entry:
            runs += sweep_runs(i, entry, base, problem)
            continue
        try:
            runs.append((MethodRun.of(entry["name"], base, label=entry.get("label"), entry=i), None))
        except (TypeError, ValueError) as e:
            problem(f"/methods/{i}/hparams", str(e))
    _unique_labels(entries, runs, problem)
    return [run for run, _ in runs]


def _unique_labels(entries: list[dict], runs: list[tuple[MethodRun, tuple[int, ...] | None]], problem: ProblemAt) -> None:
    """Every run's label is its own: a second run with a label is a problem, located at the
    value that makes it (two points of one sweep), at its sweep, or at its entry."""
    first: dict[str, tuple[MethodRun, tuple[int, ...] | None]] = {}
    for run, point in runs:
        if run.label not in first:
            first[run.label] = (run, point)
            continue
        other, other_point = first[run.label]
        where, message = f"/methods/{run.entry}", f"two methods share the label {run.label!r} (methods[{other.entry}] has it too); "
        if run.sweep is None:
            message += "give one a 'label'"
        elif other.entry == run.entry:  # two values of one list that read the same (1 and 1.0)
            sweep = entries[run.entry]["sweep"]
            k = next(k for k, (a, b) in enumerate(zip(point, other_point)) if a != b)
            name = list(sweep)[k]
            where += f"/sweep/{escape(name)}/{point[k]}"
            message = (f"two points of this sweep share the label {run.label!r}: {sweep[name][point[k]]!r} is item {other_point[k]} "
                       f"({sweep[name][other_point[k]]!r}) written another way; drop one")
        else:
            where += "/sweep"
            message += "give the sweep or the other entry a 'label' (a sweep's label is the prefix of its points')"
        problem(where, message)
