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
from itertools import accumulate

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
    keep: keep values after handing them out (only while the weights stay as they are);
    False: a store that optimises every job afresh (sequential editing changes the weights
    between batches).
    """

    def __init__(self, loaded, optimise: Callable[..., ValueResult], keep: bool = True):
        self.loaded = loaded
        self.optimise = optimise
        self.keep = keep
        self._groups: dict[tuple, ValueResult] = {}  # (setup, facts of the group) -> its value (one group)
        self._charges: dict[ValueJob, list[float]] = {}  # per job computed ahead, the seconds charged to each asker, until collected

    def compute(self, jobs: Sequence[ValueJob]) -> None:
        """Optimise the groups of ``jobs`` not optimised yet: per setup, all of them in one run."""
        pending: dict[tuple, tuple[dict, list]] = {}  # setup -> (new groups: facts -> requests, [(job, new facts it asked for)])
        for job in jobs:
            todo, askers = pending.setdefault(job.setup, ({}, []))
            new = [(facts, members) for facts, members in zip(job.group_facts(), job.groups) if (job.setup, facts) not in self._groups]
            for facts, members in new:
                todo.setdefault(facts, [job.requests[i] for i in members])
            askers.append((job, sum(len(members) for _, members in new)))
        for setup, (todo, askers) in pending.items():
            seconds = 0.0
            if todo:
                layer, sites, templates, settings = setup
                sizes = [len(members) for members in todo.values()]
                groups = [list(range(start, start + n)) for start, n in zip(accumulate([0] + sizes), sizes)]
                t = time.perf_counter()
                result = self.optimise(self.loaded, [r for members in todo.values() for r in members], groups, layer, list(templates), settings, sites=list(sites))
                seconds = time.perf_counter() - t
                for g, facts in enumerate(todo):
                    self._groups[(setup, facts)] = result.take([g])
            asked = sum(n for _, n in askers) or 1
            for job, n in askers:
                self._charges.setdefault(job, []).append(seconds * n / asked)  # methods may ask for the very same job

    def result(self, job: ValueJob) -> JobValues:
        """The job's values, optimising what is missing now, and the seconds charged for them
        since the job last asked (0 where every group was optimised before and paid for)."""
        ahead = job in self._charges
        if not ahead:
            self.compute([job])
        charges = self._charges[job]
        seconds = charges.pop(0)
        if not charges:
            del self._charges[job]
        values = ValueResult.concat([self._groups[(job.setup, facts)] for facts in job.group_facts()])
        if not self.keep:
            self._groups.clear()
        return JobValues(values=values, seconds=seconds, ahead=ahead)
