"""Target values shared by the methods that edit one batch.

Groups are optimised independently (:mod:`kedit.editing.values`), so a group's value depends
only on the model, on where and how values are optimised (layer, sites, context templates,
settings: a :class:`ValueJob`'s *setup*) and on its facts (subject, prompt, new object).
Methods that agree on the setup ask for the same value for the same group: with the same
value hyper-parameters, MEMIT, MEMIT-Merge and AlphaEdit on a distinct-subject batch ask for
identical groups of one.
:class:`SharedValues` optimises every group asked for once, all groups of one setup in one
batched run (MEMIT's groups of one and MEMIT-Merge's groups of a subject side by side), and
hands each method its groups.

A group met again in a later batch keeps its value. A value is valid only for the weights it
was optimised on: share values only while the model stays as it is (``kedit run`` restores
the weights after every cell, so it shares them across a whole run that is not sequential).

Time is charged to the jobs of a joint run in proportion to the facts each asked for, so a
method's edit time stays comparable with a method that shares nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kedit.editing.requests import EditRequest
from kedit.editing.values import ValueResult, ValueSettings

Fact = tuple[str, str, str]  # (subject, prompt, new object): all of a request a value depends on


@dataclass(frozen=True)
class ValueJob:
    """One method's value optimisation for one batch: ``groups`` index ``requests``."""

    layer: int
    sites: tuple[str, ...]
    templates: tuple[str, ...]
    settings: ValueSettings
    requests: tuple[EditRequest, ...]
    groups: tuple[tuple[int, ...], ...]

    @property
    def setup(self) -> tuple:
        return self.layer, self.sites, self.templates, self.settings

    def group_facts(self) -> list[tuple[Fact, ...]]:
        return [tuple((self.requests[i].subject, self.requests[i].prompt, self.requests[i].target_new) for i in members) for members in self.groups]


@dataclass
class JobValues:
    """A job's values (its groups in its order) and the seconds charged for them; ``ahead``:
    optimised before the method asked (by :meth:`SharedValues.compute`), not while it waited."""

    values: ValueResult
    seconds: float
    ahead: bool


class SharedValues:
    """Values per (setup, group), optimised once.

    optimise: a value optimiser (:data:`kedit.editing.values.VALUE_OPTIMISERS`), called as
    ``optimise(loaded, requests, groups, layer, templates, settings, sites=...)``
    """

    def __init__(self, loaded, optimise: Callable[..., ValueResult]):
        self.loaded = loaded
        self.optimise = optimise
        self._groups: dict[tuple, ValueResult] = {}  # (setup, facts of the group) -> its value (one group)
        self._charged: dict[ValueJob, float] = {}

    def compute(self, jobs: Sequence[ValueJob]) -> None:
        """Optimise the groups of ``jobs`` not optimised yet: per setup, all of them in one run."""
        by_setup: dict[tuple, dict[tuple, list[EditRequest]]] = {}
        askers: dict[tuple, list[tuple[ValueJob, int]]] = {}  # setup -> (job, facts it asked for that are computed now)
        for job in jobs:
            if job in self._charged:
                continue
            todo = by_setup.setdefault(job.setup, {})
            asked = 0
            for facts, members in zip(job.group_facts(), job.groups):
                if (job.setup, facts) not in self._groups:
                    todo.setdefault(facts, [job.requests[i] for i in members])
                    asked += len(members)
            askers.setdefault(job.setup, []).append((job, asked))
        for setup, todo in by_setup.items():
            seconds = 0.0
            if todo:
                layer, sites, templates, settings = setup
                requests = [r for members in todo.values() for r in members]
                bounds, start = [], 0
                for members in todo.values():
                    bounds.append(list(range(start, start + len(members))))
                    start += len(members)
                t = time.perf_counter()
                result = self.optimise(self.loaded, requests, bounds, layer, list(templates), settings, sites=list(sites))
                seconds = time.perf_counter() - t
                for g, facts in enumerate(todo):
                    self._groups[(setup, facts)] = result.take([g])
            asked = sum(n for _, n in askers[setup]) or 1
            for job, n in askers[setup]:
                self._charged[job] = seconds * n / asked

    def result(self, job: ValueJob) -> JobValues:
        """The job's values, optimising what is missing now."""
        ahead = job in self._charged
        if not ahead:
            self.compute([job])
        values = ValueResult.concat([self._groups[(job.setup, facts)] for facts in job.group_facts()])
        return JobValues(values=values, seconds=self._charged[job], ahead=ahead)
