"""Efficacy, paraphrase and specificity as EasyEdit computes them (the paper's numbers come from it).

- efficacy: teacher-forced token accuracy of ``target_new`` after the edit prompt;
- paraphrase: the same after each paraphrase prompt (mean per request, then over requests);
- efficacy_before / paraphrase_before: the same on the unedited model, the floor an edit
  starts from (a multi-token object's later tokens are often guessed from its first);
- specificity: share of neighbourhood-prompt tokens whose argmax after the edit equals
  the argmax before it (teacher-forced on the neighbour's own continuation);
- efficacy_prob / paraphrase_prob: share of prompts where P(target_new) > P(target_true),
  for requests whose old object is known (CounterFact's "efficacy score").
"""

from __future__ import annotations

from kedit.editing.tokens import TextRow, subject_row, with_target
from kedit.metrics.base import mean, register_metric
from kedit.metrics.scoring import score_rows


def _per_request(loaded, requests, prompts_of, target_of) -> list[list]:
    """Score ``prompts_of(r)`` x ``target_of(r)`` rows; returns, per request, its prompts' scores."""
    rows, owner = [], []
    for i, r in enumerate(requests):
        for p in prompts_of(r):
            rows.append(TextRow(prefix=p, target=with_target(p, target_of(r))))
            owner.append(i)
    scored = score_rows(loaded, rows)
    out: list[list] = [[] for _ in requests]
    for i, s in zip(owner, scored):
        out[i].append(s)
    return out


def _efficacy(loaded, requests, ectx=None) -> float:
    scored = score_rows(loaded, [subject_row(r.prompt, r.subject, r.target_new) for r in requests])
    return mean(s.accuracy for s in scored)


def _paraphrase(loaded, requests, ectx=None) -> float:
    per = _per_request(loaded, requests, lambda r: r.paraphrase_prompts, lambda r: r.target_new)
    return mean(mean(s.accuracy for s in ss) for ss in per if ss)


@register_metric("efficacy", True, "token accuracy of the new object after the edit prompt", before=_efficacy)
def efficacy(loaded, requests, ectx, before):
    return {"efficacy": _efficacy(loaded, requests), "efficacy_before": before}


@register_metric("paraphrase", True, "token accuracy of the new object after the paraphrase prompts", before=_paraphrase)
def paraphrase(loaded, requests, ectx, before):
    return {"paraphrase": _paraphrase(loaded, requests), "paraphrase_before": before}


def _prob_wins(loaded, requests, prompts_of) -> float:
    known = [r for r in requests if r.target_true]
    if not known:
        return float("nan")
    new = _per_request(loaded, known, prompts_of, lambda r: r.target_new)
    old = _per_request(loaded, known, prompts_of, lambda r: r.target_true)
    wins = [mean(float(n.logprob > o.logprob) for n, o in zip(ns, os_)) for ns, os_ in zip(new, old) if ns]
    return mean(wins)


@register_metric("efficacy_prob", True, "share of edit prompts with P(new object) > P(old object)")
def efficacy_prob(loaded, requests, ectx, state=None):
    return {"efficacy_prob": _prob_wins(loaded, requests, lambda r: [r.text])}


@register_metric("paraphrase_prob", True, "share of paraphrase prompts with P(new object) > P(old object)")
def paraphrase_prob(loaded, requests, ectx, state=None):
    return {"paraphrase_prob": _prob_wins(loaded, requests, lambda r: r.paraphrase_prompts)}


def _neighbour_rows(requests) -> list[TextRow]:
    return [TextRow(prefix=n.prompt, target=with_target(n.prompt, n.target) if n.target else "") for r in requests for n in r.neighborhood]


def _neighbour_predictions(loaded, requests, ectx):
    return [s.predicted for s in score_rows(loaded, _neighbour_rows(requests))]


@register_metric(
    "specificity", True, "share of neighbourhood-prompt tokens whose prediction the edit leaves unchanged", before=_neighbour_predictions
)
def specificity(loaded, requests, ectx, before):
    after = [s.predicted for s in score_rows(loaded, _neighbour_rows(requests))]
    if not after:
        return {"specificity": float("nan")}
    # EasyEdit averages per prompt, then over prompts.
    return {"specificity": mean(float((a == b).float().mean()) for a, b in zip(after, before))}
