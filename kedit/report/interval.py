"""Percentile bootstrap confidence intervals, in plain Python (no numpy: reports are read light).

A table row's value is the mean over its cells (seeds, batches) of each cell's mean over its
edits. Its interval resamples that: B times, draw the cells with replacement, then within each
drawn cell its edits with replacement, and take the mean of the drawn cells' means; the
interval is the (1 - level) / 2 and (1 + level) / 2 percentiles of those B means. With one
cell this is the ordinary bootstrap over edits. A cell whose value pools prompts rather than
edits (specificity) weighs each edit by its number of prompts, so a drawn cell's mean is
sum(w * s) / sum(w) over the drawn edits, as the cell's own value is.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bootstrap:
    """How intervals are computed; report.json records it (``intervals``) and report.md says it."""

    resamples: int = 2000  # B
    level: float = 0.95
    seed: int = 0  # of random.Random, fresh for every interval: an interval does not depend on what was computed before it

    def to_dict(self) -> dict:
        return {"method": "percentile bootstrap", "resamples": self.resamples, "level": self.level, "seed": self.seed,
                "over": "edits; where a row pools several cells (seeds, batches), cells and then edits within each"}

    @classmethod
    def from_dict(cls, data: dict) -> Bootstrap:
        return cls(data["resamples"], data["level"], data["seed"])

    def describe(self) -> str:
        return (f"{self.level:.0%} percentile bootstrap interval over edits (where a row pools several seeds or batches: "
                f"over cells, then edits within each), B = {self.resamples} resamples, random.Random seed {self.seed}")


BOOTSTRAP = Bootstrap()


@dataclass(frozen=True)
class Sample:
    """One cell's edits: each edit's score and, where the cell's value pools prompts, its weight."""

    scores: tuple[float, ...]
    weights: tuple[int, ...] | None = None

    def resampled_mean(self, rng: random.Random) -> float:
        """The mean of ``len(scores)`` edits drawn with replacement (weighted where the cell has weights)."""
        n = len(self.scores)
        if self.weights is None:
            return sum(rng.choices(self.scores, k=n)) / n
        drawn = rng.choices(range(n), k=n)
        return sum(self.scores[i] * self.weights[i] for i in drawn) / sum(self.weights[i] for i in drawn)


def bootstrap_interval(samples: Sequence[Sample], boot: Bootstrap = BOOTSTRAP) -> tuple[float, float]:
    """(low, high): the percentile interval of the mean over ``samples`` of their means (see the
    module's docstring). Deterministic: the same samples and settings give the same interval.
    Every sample needs at least one edit (and a positive weight sum)."""
    if not samples or any(not s.scores for s in samples):
        raise ValueError("a bootstrap needs at least one cell, each with at least one edit")
    rng = random.Random(boot.seed)
    k = len(samples)
    means = sorted(sum(s.resampled_mean(rng) for s in rng.choices(samples, k=k)) / k for _ in range(boot.resamples))
    tail = round(boot.resamples * (1 - boot.level) / 2)  # B = 2000, 95 %: the 51st smallest and the 51st largest
    return means[tail], means[boot.resamples - 1 - tail]
