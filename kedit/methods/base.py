"""What every editing method shares: the registry, the context a method runs in, and
applying / restoring weight updates.

A method is ``compute(ctx, requests, config) -> Edit``: it leaves the model as it found
it (an invariant the tests check) and returns weight updates; :func:`apply_edit`
changes the model and returns what :func:`restore` needs to undo it bit for bit.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import torch

from kedit.stats.corpus import Corpus
from kedit.editing.context import context_templates
from kedit.editing.requests import EditRequest
from kedit.editing.shared_values import JobValues, SharedValues, ValueJob
from kedit.stats.moments import SecondMoment, second_moments
from kedit.editing.values import VALUE_OPTIMISERS, NonFiniteError
from kedit.models.architecture import get_module
from kedit.models.load import LoadedModel
from kedit.models.offload import writable
from kedit.registry import Registry


@dataclass
class Edit:
    """Weight updates, ``module path -> (d_out, d_in)`` (nn.Linear layout), and what the method measured.

    ``keys``: per edited layer, the (n, d_in) keys the update was solved for; sequential
    editing remembers them so that later batches keep these edits.
    """

    updates: dict[str, torch.Tensor]
    info: dict = field(default_factory=dict)
    keys: dict[int, torch.Tensor] = field(default_factory=dict)


@dataclass(frozen=True)
class Method:
    name: str
    config: type  # a dataclass of hyper-parameters
    compute: Callable[["EditContext", list[EditRequest], object], Edit]
    summary: str


METHODS: Registry[Method] = Registry("method")


def register(name: str, config: type, summary: str = ""):
    """Register ``compute`` under ``name`` with its config dataclass; a name is taken once."""

    def wrap(compute):
        METHODS.add(name, Method(name=name, config=config, compute=compute, summary=summary))
        return compute

    return wrap


def get_method(name: str) -> Method:
    return METHODS[name]


def make_config(method: Method, hparams: dict | None):
    """The method's config from a dict, refusing unknown names."""
    names = {f.name for f in dataclasses.fields(method.config)}
    unknown = sorted(set(hparams or {}) - names)
    if unknown:
        raise ValueError(f"{method.name}: unknown hyper-parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    return method.config(**(hparams or {}))


@dataclass
class StatsSettings:
    """Where second moments come from (shared by all methods of a run, so comparisons are fair)."""

    corpus: Corpus
    n_samples: int = 2000  # windows of max_length tokens
    max_length: int = 128
    batch_size: int = 8


class EditContext:
    """A loaded model plus what methods share and compute lazily: context templates, second
    moments and, inside :meth:`sharing_values`, target values."""

    def __init__(
        self,
        loaded: LoadedModel,
        stats: StatsSettings | None = None,
        seed: int = 0,
        tokens_per_pass: int = 2048,
        progress: bool = True,
        value_optimiser: str = "batched",
    ):
        self.loaded = loaded
        self.stats_settings = stats
        self.seed = seed
        self.tokens_per_pass = tokens_per_pass
        self.value_optimiser = value_optimiser  # a key of kedit.editing.values.VALUE_OPTIMISERS
        self.progress = progress
        self._moments: dict[int, SecondMoment] = {}
        self.earlier: dict[int, torch.Tensor] = {}  # per layer Σ K Kᵀ of edits applied so far (sequential editing)
        self.stats_seconds = 0.0  # time spent computing (or loading) second moments
        self._templates: dict[int, list[str]] = {}
        self._shared: SharedValues | None = None

    def _new_values(self) -> SharedValues:
        """An empty store of values, optimised with this context's optimiser and settings."""
        return SharedValues(self.loaded, partial(VALUE_OPTIMISERS[self.value_optimiser], tokens_per_pass=self.tokens_per_pass, progress=self.progress))

    @contextmanager
    def sharing_values(self, shared: SharedValues | None = None) -> Iterator[SharedValues]:
        """Inside the block, a group's value is optimised once for every method and batch that
        asks for it (:mod:`kedit.editing.shared_values`): only while the weights stay as they
        are, e.g. around the cells of a run that restores the model after scoring each.
        ``shared``: the values of another context of the same model to use (and add to)."""
        self._shared = shared if shared is not None else self._new_values()
        try:
            yield self._shared
        finally:
            self._shared = None

    def prefetch_values(self, jobs: Sequence[ValueJob]) -> None:
        """Optimise the values of ``jobs`` together now (inside :meth:`sharing_values`; else nothing to keep them)."""
        if self._shared is not None:
            self._shared.compute(jobs)

    def values(self, job: ValueJob) -> JobValues:
        """The job's target values: shared inside :meth:`sharing_values`, else optimised for it alone."""
        return (self._shared if self._shared is not None else self._new_values()).result(job)

    def templates(self, n_tokens: int) -> list[str]:
        """Context templates with prefixes of ``n_tokens`` tokens, generated once per run."""
        if n_tokens not in self._templates:
            self._templates[n_tokens] = context_templates(self.loaded, n_tokens=n_tokens, seed=self.seed)
        return self._templates[n_tokens]

    def remember(self, edit: "Edit") -> None:
        """Keep an applied edit's keys, so later solves preserve it (sequential editing)."""
        for layer, k in edit.keys.items():
            outer = k.double().T @ k.double()
            self.earlier[layer] = self.earlier[layer] + outer if layer in self.earlier else outer

    def second_moments(self, layers: Sequence[int]) -> dict[int, torch.Tensor]:
        """(d_in, d_in) ``E[k kᵀ]`` per layer, computed once per run (and cached on disk)."""
        missing = [layer for layer in layers if layer not in self._moments]
        if missing:
            if self.stats_settings is None:
                raise ValueError("this method needs second-moment statistics but no corpus was given")
            s = self.stats_settings
            t = time.perf_counter()
            self._moments.update(second_moments(self.loaded, s.corpus, missing, s.n_samples, s.max_length, s.batch_size, progress=self.progress))
            self.stats_seconds += time.perf_counter() - t
        return {layer: self._moments[layer].moment.to(self.loaded.device) for layer in layers}


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

