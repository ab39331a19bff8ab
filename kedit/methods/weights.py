"""Weight updates: what a method returns, and applying / restoring them.

A method leaves the model as it found it (an invariant the tests check) and returns an
:class:`Edit`; :func:`apply_edit` changes the model and returns what :func:`restore` needs
to undo it bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from kedit.editing.values import NonFiniteError
from kedit.models.architecture import get_module
from kedit.models.load import LoadedModel
from kedit.models.offload import writable


@dataclass
class Edit:
    """Weight updates, ``module path -> (d_out, d_in)`` (nn.Linear layout), and what the method measured.

    ``keys``: per edited layer, the (n, d_in) keys the update was solved for; sequential
    editing remembers them so that later batches keep these edits.
    """

    updates: dict[str, torch.Tensor]
    info: dict = field(default_factory=dict)
    keys: dict[int, torch.Tensor] = field(default_factory=dict)


def _weight(loaded: LoadedModel, path: str) -> torch.Tensor:
    """The tensor holding ``path``'s weight (for an offloaded module, the copy it is loaded from)."""
    return writable(get_module(loaded.model, path, loaded.arch.model_type), "weight", path)


def _conv1d(loaded: LoadedModel, path: str) -> bool:
    return loaded.arch.conv1d and type(get_module(loaded.model, path)).__name__ == "Conv1D"


@torch.no_grad()
def add_update(loaded: LoadedModel, path: str, update: torch.Tensor) -> None:
    """``W += update`` for a (d_out, d_in) update, transposed for GPT-2's Conv1D (stored (in, out))."""
    w = _weight(loaded, path)
    w += (update.T if _conv1d(loaded, path) else update).to(w.device, w.dtype)


def snapshot(loaded: LoadedModel, paths) -> dict[str, torch.Tensor]:
    return {p: _weight(loaded, p).detach().clone() for p in paths}


@torch.no_grad()
def restore(loaded: LoadedModel, originals: dict[str, torch.Tensor]) -> None:
    """Put back the weights returned by :func:`apply_edit` (bit-exact)."""
    for path, w in originals.items():
        _weight(loaded, path).copy_(w)


def apply_edit(loaded: LoadedModel, edit: Edit) -> dict[str, torch.Tensor]:
    """Add the edit's updates to the model; returns the original weights for :func:`restore`.
    An update that is not finite is refused before any weight changes."""
    for path, upd in edit.updates.items():
        if not torch.isfinite(upd).all():
            raise NonFiniteError(f"the update of {path} is not finite (model dtype {_weight(loaded, path).dtype}); nothing was applied")
    originals = snapshot(loaded, edit.updates)
    for path, upd in edit.updates.items():
        add_update(loaded, path, upd)
    return originals


@contextmanager
def weights_restored(loaded: LoadedModel, paths) -> Iterator[None]:
    """Whatever happens to these weights inside the block is undone when it ends."""
    originals = snapshot(loaded, paths)
    try:
        yield
    finally:
        restore(loaded, originals)
