"""What a spec may name, for ``kedit ls``: the registered methods and metrics, the architectures
kedit finds the edited modules in, and the embedded models; one :class:`Entry` each.

Each lister imports its registry when called, so importing this module (as the CLI does) costs
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One name a spec may use, with a one-line description."""

    name: str
    description: str
    higher_is_better: bool | None = None  # metrics only: which way is up

    def columns(self) -> list[str]:
        """The entry as text columns: name, [higher/lower is better,] description."""
        direction = [] if self.higher_is_better is None else [f"{'higher' if self.higher_is_better else 'lower'} is better"]
        return [self.name, *direction, self.description]

    def as_dict(self) -> dict:
        out = {"name": self.name, "description": self.description}
        return out if self.higher_is_better is None else out | {"higher_is_better": self.higher_is_better}


def methods() -> list[Entry]:
    """Registered methods (a spec's ``methods: [{name: ...}]``) and their summaries."""
    from kedit.methods import METHODS

    return [Entry(name, method.summary) for name, method in METHODS.items()]


def metrics() -> list[Entry]:
    """Registered metrics (a spec's ``metrics:``), which way is better, and what each measures."""
    from kedit.metrics import METRICS

    return [Entry(name, metric.description, metric.higher_is_better) for name, metric in METRICS.items()]


def architectures() -> list[Entry]:
    """Model types of ``kedit/models/architectures.yaml`` (a model's ``config.model_type``) and the
    module MEMIT edits in each."""
    from kedit.models.table import architecture_for, supported_model_types

    def about(model_type: str) -> str:
        arch = architecture_for(model_type)
        notes = [" (GPT-2 Conv1D: weights stored (in, out))" if arch.conv1d else "", "; post-norm blocks" if arch.post_mlp_norm else ""]
        return f"MLP output {arch.mlp_out}, attention output {arch.attn_out}" + "".join(notes)

    return [Entry(t, about(t)) for t in supported_model_types()]


def models() -> list[Entry]:
    """Embedded models (a spec's ``model: {name: ...}``; any Hub id, folder or .gguf file works too)."""
    from kedit.models.embedded import MODELS

    return [Entry(name, model.describe()) for name, model in sorted(MODELS.items())]


# ``kedit ls CATEGORY`` -> its lister
CATEGORIES: dict[str, Callable[[], list[Entry]]] = {"methods": methods, "metrics": metrics, "architectures": architectures, "models": models}


def as_text(entries: list[Entry]) -> list[str]:
    """One line per entry, columns aligned (two spaces between them); the entries of one category
    have the same columns."""
    rows = [e.columns() for e in entries]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)] if rows else []
    return ["  ".join([*(c.ljust(w) for c, w in zip(r, widths)), r[-1]]) for r in rows]
