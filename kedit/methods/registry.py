"""The method registry, the base of every method's config, and a method chosen for a run.

A method is ``compute(ctx, requests, config) -> Edit`` (:mod:`kedit.methods.weights`)
registered under its name with its config dataclass (:mod:`kedit.methods.configs`). The
registry names where ``compute`` lives and imports it on first use, so reading and checking
specs needs no engine (torch). A config is parsed from a spec's mapping once
(:meth:`Method.parse`) and passed down typed; ``to_dict()`` is what reports record and cell
keys hash.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kedit.registry import Registry

if TYPE_CHECKING:  # annotations only
    from kedit.editing.requests import EditRequest
    from kedit.editing.shared_values import ValueJob
    from kedit.methods.context import EditContext
    from kedit.methods.weights import Edit


class MethodConfig:
    """Base of the methods' hyper-parameter dataclasses: what the run path may ask of any of them."""

    layers: list[int]
    context_tokens: int = 0  # length of the context prefixes keys are averaged over (0: bare prompt)
    context_source: str = "model"  # where the prefixes come from: a key of kedit.editing.prefixes.PREFIX_SOURCES

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def layers_used(self) -> list[int]:
        """Every layer the method reads or writes (checked against the model before a run)."""
        return list(self.layers)

    def statistics_layers(self) -> list[int]:
        """Layers whose key second moments ``E[k kᵀ]`` the method reads; a run computes those of all
        its methods in one pass before its first batch."""
        return []

    def fitted_templates(self) -> tuple[str, ...]:
        """Subject templates, besides each edit's own prompt, whose sentences the method fits the
        edit to (checked against the scored prompts: :mod:`kedit.experiment.leakage`)."""
        return ()

    def value_job(self, ctx: EditContext, requests: Sequence[EditRequest]) -> ValueJob | None:
        """The target values the method will optimise for ``requests``; None: it optimises none."""
        return None


@dataclass(frozen=True)
class Method:
    name: str
    config: type[MethodConfig]
    implementation: str  # "module:function" of its compute, imported on first use (it needs the engine)
    summary: str

    @property
    def compute(self) -> Callable[[EditContext, list[EditRequest], MethodConfig], Edit]:
        """The method's ``compute(ctx, requests, config) -> Edit``, imported from :attr:`implementation`."""
        module, _, function = self.implementation.partition(":")
        return getattr(importlib.import_module(module), function)

    def parse(self, hparams: dict | None) -> MethodConfig:
        """The config from a mapping; unknown names and bad values raise ValueError naming them."""
        names = {f.name for f in dataclasses.fields(self.config)}
        unknown = sorted(set(hparams or {}) - names)
        if unknown:
            raise ValueError(f"{self.name}: unknown hyper-parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        return self.config(**(hparams or {}))


METHODS: Registry[Method] = Registry("method")


def register(name: str, config: type[MethodConfig], implementation: str, summary: str = "") -> Method:
    """Register a method under ``name``: its config dataclass and where its compute lives
    (``"module:function"``); a name is taken once."""
    return METHODS.add(name, Method(name=name, config=config, implementation=implementation, summary=summary))


def get_method(name: str) -> Method:
    return METHODS[name]


@dataclass(frozen=True)
class SweepPoint:
    """Where a run of a spec's ``sweep`` sits in it: the curve it is a point of (the entry's
    label, or its method's name), its place in the sweep's order, the swept values, and their
    text in the run's label (``λ=3500``)."""

    curve: str
    index: int
    values: dict
    text: str


@dataclass(frozen=True)
class MethodRun:
    """One method of a spec: its registered name, its row label in the report, its parsed config;
    ``entry``: the index of the spec's method entry it comes from (None: made outside a spec),
    ``sweep``: its point where that entry sweeps hyper-parameters."""

    name: str
    label: str
    config: MethodConfig
    entry: int | None = None
    sweep: SweepPoint | None = None

    @classmethod
    def of(cls, name: str, hparams: dict | None = None, label: str | None = None, entry: int | None = None) -> MethodRun:
        return cls(name=name, label=label or name, config=get_method(name).parse(hparams), entry=entry)

    @property
    def method(self) -> Method:
        return METHODS[self.name]

    def to_dict(self) -> dict:
        """What the report's resolved spec records; a sweep's run also its entry and point (``sweep``)."""
        out = {"name": self.name, "label": self.label, "hparams": self.config.to_dict()}
        if self.sweep is not None:
            out["sweep"] = {"entry": self.entry, **dataclasses.asdict(self.sweep)}
        return out
