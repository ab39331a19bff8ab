"""Efficacy, paraphrase and specificity as EasyEdit computes them (the paper's numbers come from it).

- efficacy: teacher-forced token accuracy of ``target_new`` after the edit prompt;
- paraphrase: the same after each paraphrase prompt (mean per request, then over requests);
- efficacy_before / paraphrase_before: the same on the unedited model, the floor an edit
  starts from (a multi-token object's later tokens are often guessed from its first);
- specificity: share of neighbourhood-prompt tokens whose argmax after the edit equals
  the argmax before it (teacher-forced on the neighbour's own continuation);
- efficacy_prob / paraphrase_prob: share of prompts where P(target_new) > P(target_true),
  for requests whose old object is known (CounterFact's "efficacy score");
- efficacy_exact / paraphrase_exact: share of prompts after which every token of
  ``target_new`` is the argmax, i.e. greedy decoding writes the whole new object. Token
  accuracy credits the later tokens of a multi-token object ("Freiburg im Breisgau"), which
  the model often guesses from the first even when the edit failed; this does not.
"""

from __future__ import annotations

from functools import partial

from kedit.editing.tokens import TextRow, subject_row, with_target
from kedit.metrics.base import PerEdit, mean, register_metric


def _edit_prompt(r):
    return [r.text]


def _paraphrases(r):
    return r.paraphrase_prompts


def _new(r):
    return r.target_new


def _old(r):
    return r.target_true


def _request_rows(requests, prompts_of, target_of) -> tuple[list[TextRow], list[int]]:
    """Rows ``prompts_of(r)`` x ``target_of(r)`` of every request, and the request of each row."""
    rows, owner = [], []
    for i, r in enumerate(requests):
        for p in prompts_of(r):
            rows.append(TextRow(prefix=p, target=with_target(p, target_of(r))))
            owner.append(i)
    return rows, owner


def _per_request(seen, requests, prompts_of, target_of) -> list[list]:
    """Score :func:`_request_rows`; returns, per request, its prompts' scores."""
    rows, owner = _request_rows(requests, prompts_of, target_of)
    out: list[list] = [[] for _ in requests]
    for i, s in zip(owner, seen.scored(rows)):
        out[i].append(s)
    return out


def _edit_rows(requests) -> list[TextRow]:
    return [subject_row(r.prompt, r.subject, r.target_new) for r in requests]


def _paraphrase_rows(requests) -> list[TextRow]:
    return _request_rows(requests, _paraphrases, _new)[0]


def _efficacy(seen, requests, ectx=None, score: str = "accuracy") -> PerEdit:
    """Mean over requests of ``score`` (a :class:`Scored` property) after the edit prompt."""
    return PerEdit.mean_of(getattr(s, score) for s in seen.scored(_edit_rows(requests)))


def _paraphrase(seen, requests, ectx=None, score: str = "accuracy") -> PerEdit:
    """Mean over requests of the mean ``score`` of their paraphrase prompts (None for a request without any)."""
    per = _per_request(seen, requests, _paraphrases, _new)
    return PerEdit.mean_of(mean(getattr(s, score) for s in ss) if ss else None for ss in per)


def _register_rewrite(name: str, of, rows, score: str) -> None:
    """A rewrite metric ``name`` (with ``name_before``, the unedited model's) from ``of(seen, requests, score=...)``."""
    measure = partial(of, score=score)
    register_metric(name, before=measure, rows=rows)(
        lambda seen, requests, ectx, before: {name: measure(seen, requests), f"{name}_before": before}
    )


_register_rewrite("efficacy", _efficacy, _edit_rows, "accuracy")
_register_rewrite("paraphrase", _paraphrase, _paraphrase_rows, "accuracy")
_register_rewrite("efficacy_exact", _efficacy, _edit_rows, "exact")
_register_rewrite("paraphrase_exact", _paraphrase, _paraphrase_rows, "exact")


def _prob_rows(prompts_of):
    """The rows :func:`_prob_wins` scores: each prompt with the new and with the old object."""

    def rows(requests) -> list[TextRow]:
        known = [r for r in requests if r.target_true]
        return [row for target in (_new, _old) for row in _request_rows(known, prompts_of, target)[0]]

    return rows


def _prob_wins(seen, requests, prompts_of) -> PerEdit:
    """Per request with an old object and prompts: the share of its prompts where the new object is the likelier; None for the others."""
    known = [r for r in requests if r.target_true]
    new = iter(_per_request(seen, known, prompts_of, _new))
    old = iter(_per_request(seen, known, prompts_of, _old))
    wins = []
    for r in requests:
        ns, os_ = (next(new), next(old)) if r.target_true else ([], [])
        wins.append(mean(float(n.logprob > o.logprob) for n, o in zip(ns, os_)) if ns else None)
    return PerEdit.mean_of(wins)


@register_metric("efficacy_prob", rows=_prob_rows(_edit_prompt))
def efficacy_prob(seen, requests, ectx, state=None):
    return {"efficacy_prob": _prob_wins(seen, requests, _edit_prompt)}


@register_metric("paraphrase_prob", rows=_prob_rows(_paraphrases))
def paraphrase_prob(seen, requests, ectx, state=None):
    return {"paraphrase_prob": _prob_wins(seen, requests, _paraphrases)}


def _neighbour_rows(requests) -> list[TextRow]:
    return [TextRow(prefix=n.prompt, target=with_target(n.prompt, n.target) if n.target else "") for r in requests for n in r.neighborhood]


def _neighbour_predictions(seen, requests, ectx):
    return [s.predicted for s in seen.scored(_neighbour_rows(requests))]


def _per_owner(prompt_scores: list[float], requests) -> PerEdit:
    """The mean over all neighbourhood prompts (as EasyEdit computes it), with each request's
    own mean and its number of prompts as weight (None and 0 for a request without any)."""
    scores, weights, at = [], [], 0
    for r in requests:
        own = prompt_scores[at : at + len(r.neighborhood)]
        at += len(own)
        scores.append(mean(own) if own else None)
        weights.append(len(own))
    return PerEdit(mean(prompt_scores), tuple(scores), tuple(weights))


@register_metric("specificity", before=_neighbour_predictions, rows=_neighbour_rows)
def specificity(seen, requests, ectx, before):
    after = _neighbour_predictions(seen, requests, ectx)
    if not after:
        return {"specificity": float("nan")}
    # EasyEdit averages per prompt, then over prompts.
    return {"specificity": _per_owner([float((a == b).float().mean()) for a, b in zip(after, before)], requests)}
