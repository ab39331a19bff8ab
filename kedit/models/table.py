"""Where the editable pieces of each supported architecture live: the table
``architectures.yaml``, a row of it as an :class:`Architecture`. No engine here: ``kedit``
can list the architectures without torch; :mod:`kedit.models.architecture` resolves the
path templates against a loaded model.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import yaml


class ArchitectureError(ValueError):
    """A model whose type or modules kedit cannot locate."""


@dataclass(frozen=True)
class Architecture:
    """Module path templates of one architecture ("{}" is a layer index)."""

    model_type: str
    backbone: str  # decoder without head; output is final-normed
    layers: str  # ModuleList of decoder blocks
    mlp_out: str  # MLP output projection: the edited weight; keys are its inputs
    attn_out: str  # attention output projection
    final_norm: str
    conv1d: bool  # GPT-2 Conv1D: weight stored (in, out), not nn.Linear's (out, in)
    post_mlp_norm: str | None = None  # norm between MLP output and residual (post-norm blocks)

    @property
    def block(self) -> str:
        """Path template of a whole decoder block; its output is the residual stream."""
        return self.layers + ".{}"


@cache
def _table() -> dict[str, dict]:
    return yaml.safe_load(files("kedit.models").joinpath("architectures.yaml").read_text())


def supported_model_types() -> list[str]:
    return sorted(_table())


def architecture_for(model_type: str) -> Architecture:
    row = _table().get(model_type)
    if row is None:
        raise ArchitectureError(
            f"unsupported model type {model_type!r}: kedit knows {', '.join(supported_model_types())} "
            "(add a row to kedit/models/architectures.yaml)"
        )
    return Architecture(model_type=model_type, **row)
