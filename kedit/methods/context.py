"""The context a method runs in: the loaded model plus what methods share and compute lazily.

Second moments of keys are computed once per layer; context templates once per prefix
length; target values come from a :class:`~kedit.editing.shared_values.SharedValues`
store: by default one that optimises each job for itself; ``kedit run`` passes one that
keeps values for the whole run, since it restores the weights after every cell.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import torch

from kedit.editing.prefixes import PREFIX_SOURCES
from kedit.editing.preserve import preserved_keys
from kedit.editing.requests import EditRequest
from kedit.editing.shared_values import JobValues, SharedValues, ValueJob
from kedit.editing.values import VALUE_OPTIMISERS
from kedit.models.load import LoadedModel
from kedit.stats.corpus import Corpus
from kedit.stats.moments import SecondMoment, second_moments


@dataclass
class StatsSettings:
    """Where second moments come from (shared by all methods of a run, so comparisons are fair)."""

    corpus: Corpus
    n_samples: int = 1000  # windows of max_length tokens (the spec's default, kedit.spec.model.StatisticsSection)
    max_length: int = 128
    batch_size: int = 8
    precision: str = "float32"  # a key of kedit.stats.precision.PRECISIONS or "auto" (resolved on the model's device); the spec's default is auto, resolved by kedit run


def value_store(loaded: LoadedModel, keep: bool = False, optimiser: str = "batched", tokens_per_pass: int = 2048, progress: bool = True) -> SharedValues:
    """An empty store of target values optimised with ``optimiser`` (a key of
    :data:`kedit.editing.values.VALUE_OPTIMISERS`); ``keep``: see :class:`SharedValues`."""
    return SharedValues(loaded, partial(VALUE_OPTIMISERS[optimiser], tokens_per_pass=tokens_per_pass, progress=progress), keep=keep)


class EditContext:
    """A loaded model plus context templates, second moments, target values and (sequential
    editing) the keys of edits applied so far."""

    def __init__(
        self,
        loaded: LoadedModel,
        stats: StatsSettings | None = None,
        seed: int = 0,
        values: SharedValues | None = None,
        templates: dict[tuple[str, int], list[str]] | None = None,
        progress: bool = True,
    ):
        """templates: context templates by (source, prefix length) to use and add to, e.g. another
        context's ``prefix_templates`` (a half-precision twin then edits the same prompts)."""
        self.loaded = loaded
        self.stats_settings = stats
        self.seed = seed
        self.progress = progress
        self.shared_values = values if values is not None else value_store(loaded, keep=False, progress=progress)
        self.earlier: dict[int, torch.Tensor] = {}  # per layer Σ K Kᵀ of edits applied so far (sequential editing)
        self.stats_seconds = 0.0  # time spent computing (or loading) second moments
        self._moments: dict[int, SecondMoment] = {}
        self._other_keys: dict[tuple, dict[int, torch.Tensor]] = {}
        self.prefix_templates: dict[tuple[str, int], list[str]] = templates if templates is not None else {}

    def values(self, job: ValueJob) -> JobValues:
        """The job's target values (from the store, which may have them already)."""
        return self.shared_values.result(job)

    def templates(self, n_tokens: int, source: str = "model") -> list[str]:
        """Context templates with prefixes of ``n_tokens`` tokens from ``source`` (a key of
        :data:`~kedit.editing.prefixes.PREFIX_SOURCES`), made once per context."""
        if (source, n_tokens) not in self.prefix_templates:
            self.prefix_templates[source, n_tokens] = PREFIX_SOURCES[source](self, n_tokens)
        return self.prefix_templates[source, n_tokens]

    def other_subject_keys(self, requests: Sequence[EditRequest], layers: Sequence[int], templates: Sequence[str], count: int) -> dict[int, torch.Tensor]:
        """Per layer, (count, d_in) keys of other subjects in the batch's prompts
        (:func:`kedit.editing.preserve.preserved_keys`), read once per batch and setting."""
        key = (tuple(requests), tuple(layers), tuple(templates), count)
        if key not in self._other_keys:
            self._other_keys = {key: preserved_keys(self.loaded, requests, layers, templates, count, self.seed)}  # one batch's at a time
        return self._other_keys[key]

    def remember(self, keys: dict[int, torch.Tensor]) -> None:
        """Keep an applied edit's (n, d_in) keys per layer, so later solves preserve it (sequential editing)."""
        for layer, k in keys.items():
            outer = k.double().T @ k.double()
            self.earlier[layer] = self.earlier[layer] + outer if layer in self.earlier else outer

    def forget(self) -> None:
        """Drop the remembered keys (the model was restored)."""
        self.earlier.clear()

    def second_moments(self, layers: Sequence[int]) -> dict[int, torch.Tensor]:
        """(d_in, d_in) ``E[k kᵀ]`` per layer, computed once per context (and cached on disk)."""
        missing = [layer for layer in layers if layer not in self._moments]
        if missing:
            if self.stats_settings is None:
                raise ValueError("this method needs second-moment statistics but no corpus was given")
            s = self.stats_settings
            t = time.perf_counter()
            self._moments.update(second_moments(self.loaded, s.corpus, missing, s.n_samples, s.max_length, s.batch_size, progress=self.progress, precision=s.precision))
            self.stats_seconds += time.perf_counter() - t
        return {layer: self._moments[layer].moment.to(self.loaded.device) for layer in layers}
