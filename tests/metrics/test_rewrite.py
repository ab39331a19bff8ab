"""kedit.metrics.rewrite: exact match against token accuracy."""

from __future__ import annotations

import pytest
import torch

from kedit.editing.requests import make_requests
from tests.tiny import METHOD_HP, ctx_for


def test_exact_match_credits_a_prompt_only_when_every_target_token_is_the_argmax(tiny, raw_requests, corpus):
    from kedit.metrics.scoring import Scored
    from tests.tiny import evaluate

    assert Scored(torch.tensor([5, 6, 7]), torch.tensor([5, 6, 7]), 0.0).exact == 1.0
    partly = Scored(torch.tensor([5, 9, 7]), torch.tensor([5, 6, 7]), 0.0)
    assert partly.exact == 0.0 and partly.accuracy == pytest.approx(2 / 3)
    reqs = make_requests(raw_requests)
    res = evaluate(ctx_for(tiny, corpus), "MEMIT", METHOD_HP["MEMIT"], reqs, ["efficacy", "efficacy_exact", "paraphrase", "paraphrase_exact"])
    m = res.metrics
    for name in ("efficacy", "paraphrase"):
        assert 0.0 <= m[f"{name}_exact"] <= m[name] and 0.0 <= m[f"{name}_exact_before"] <= m[f"{name}_before"]
    assert (m["efficacy_exact"] * len(reqs)) == pytest.approx(round(m["efficacy_exact"] * len(reqs)))  # a share of the requests


def test_each_value_is_the_mean_of_its_per_edit_scores(tokenizer, raw_requests, corpus):
    """Requests with and without paraphrases, old objects and with one or two neighbours: each
    metric that is a mean over edits returns a score per request (None where it has no data),
    and its value is their mean, weighted by prompt count for specificity (which pools prompts)."""
    from kedit.metrics import PerEdit
    from tests.tiny import evaluate, make_tiny

    raw_requests[0]["neighborhood_prompts"].append({"prompt": "Thomas Ong's birthplace is", "target": "Singapore"})
    reqs = make_requests(raw_requests)
    names = ["efficacy", "paraphrase", "specificity", "efficacy_prob", "paraphrase_prob", "efficacy_exact", "paraphrase_exact", "akd"]
    res = evaluate(ctx_for(make_tiny("llama", tokenizer), corpus), "MEMIT", METHOD_HP["MEMIT"], reqs, names)
    assert set(res.per_edit) == {n for n in names if n != "akd"} | {f"{n}_before" for n in ("efficacy", "paraphrase", "efficacy_exact", "paraphrase_exact")}
    assert "akd" not in res.per_edit and "akd_collisions" not in res.per_edit  # not means over edits
    for name, p in res.per_edit.items():
        assert isinstance(p, PerEdit) and len(p.scores) == len(reqs) and res.metrics[name] == p.value
        known = [(s, w) for s, w in zip(p.scores, p.weights or [1] * len(reqs)) if s is not None]
        assert p.value == pytest.approx(sum(s * w for s, w in known) / sum(w for _, w in known), abs=1e-12), name
    assert [s is None for s in res.per_edit["paraphrase"].scores] == [not r.paraphrase_prompts for r in reqs]
    assert [s is None for s in res.per_edit["efficacy_prob"].scores] == [not r.target_true for r in reqs]
    assert res.per_edit["specificity"].weights == (2, 1, 1, 1)
    assert res.per_edit["efficacy"].value == sum(res.per_edit["efficacy"].scores) / len(reqs)  # bit for bit, as before per-edit scores
