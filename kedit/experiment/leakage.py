"""Settings never see the prompts they are scored on.

Keys and target values are computed from each edit's prompt (bare, and under the context
prefixes the model generates) and from its KL prompt (``kl_prompt`` with the subject). If
one of those sentences is also a paraphrase or neighbourhood prompt of the batch, the metric
scores the prompt the edit was fitted to and reads too high (a paraphrase equal to the edit
prompt scores efficacy twice). :func:`find_leaks` lists such prompts; a run refuses to start
with any (:func:`check_no_leaks`), naming the dataset row and the prompt.

Prompts are compared after collapsing white space. The model-generated prefixes are not
known before the model runs; a prefixed sentence starts with the generated text, so it can
equal a scored prompt only where the dataset holds that generated text verbatim.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from kedit.editing.requests import EditRequest, fill
from kedit.experiment.errors import RunError
from kedit.util import problem_list


@dataclass(frozen=True)
class Leak:
    """A scored prompt that is also a prompt keys or values are computed from."""

    prompt: str
    scored_as: str  # "paraphrase" | "neighbourhood"
    scored_in: int  # index of the request whose metric scores it
    fitted_by: int  # index of the request that computes keys or values from it


def _norm(text: str) -> str:
    return " ".join(text.split())


def fitted_prompts(requests: Sequence[EditRequest], kl_prompts: Sequence[str]) -> dict[str, int]:
    """Every sentence keys or values are computed from (bare edit prompts and KL prompts,
    white space collapsed) -> the index of the first request that uses it."""
    out: dict[str, int] = {}
    for i, r in enumerate(requests):
        for sentence in (r.text, *(fill(k, r.subject) for k in kl_prompts)):
            out.setdefault(_norm(sentence), i)
    return out


def find_leaks(requests: Sequence[EditRequest], kl_prompts: Sequence[str] = ()) -> list[Leak]:
    """Scored prompts of ``requests`` that are also prompts they are fitted to (see the module doc)."""
    fitted = fitted_prompts(requests, kl_prompts)
    return [
        Leak(prompt, metric, i, fitted[_norm(prompt)])
        for i, r in enumerate(requests)
        for prompt, metric in r.scored_prompts()
        if _norm(prompt) in fitted
    ]


def check_no_leaks(batches: Iterable[tuple[Sequence[EditRequest], Sequence[str], Callable[[int], str]]]) -> None:
    """Raise :class:`RunError` naming every leak of every batch: ``(requests, kl_prompts, where)``,
    the requests one batch edits together, the KL prompts of its methods and ``where(i)``, the
    name of request ``i``'s row."""
    lines = [
        f"{where(leak.scored_in)}: {leak.scored_as} prompt {leak.prompt!r} is also a prompt the edit of {where(leak.fitted_by)} is fitted to"
        for requests, kl_prompts, where in batches
        for leak in find_leaks(requests, kl_prompts)
    ]
    if lines:
        raise RunError(
            problem_list(lines, "scored prompts are prompts the edits of their batch are fitted to, so their metric would read too high")
            + "\nDrop those paraphrase/neighbourhood prompts from the data, or change the edit template or kl_prompt."
        )
