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
