"""kedit.experiment.evaluate: a cell's edit and scores, the unedited model's scores shared by
the cells of a batch, sequential editing."""

from __future__ import annotations

import pytest

from kedit.editing.requests import make_requests
from kedit.models.load import weights_fingerprint
from tests.tiny import METHOD_HP, TINY_HP, ctx_for


def test_sequential_editing_keeps_earlier_keys_and_restores_the_model(tiny, raw_requests, corpus):
    from kedit.experiment.evaluate import edit_sequentially
    from kedit.methods import MethodRun
    from kedit.metrics import get_metric

    reqs = make_requests(raw_requests)
    ctx = ctx_for(tiny, corpus)
    before = weights_fingerprint(tiny.model)
    seen = []
    original_remember = ctx.remember

    def remember(keys):
        original_remember(keys)
        seen.append({layer: float(m.abs().sum()) for layer, m in ctx.earlier.items()})

    ctx.remember = remember
    res = edit_sequentially(ctx, MethodRun.of("MEMIT", TINY_HP), [reqs[:2], reqs[2:]], [get_metric("efficacy")])
    assert [s["step"] for s in res.steps] == [0, 1]
    assert all(isinstance(v, float) for s in res.steps for part in ("metrics", "first_batch") for v in s[part].values())
    # per-edit scores: the last batch's edits, and the first batch's for first_batch_*
    assert len(res.per_edit["efficacy"].scores) == len(res.per_edit["first_batch_efficacy"].scores) == 2
    assert res.per_edit["first_batch_efficacy"].value == res.metrics["first_batch_efficacy"] == res.steps[-1]["first_batch"]["efficacy"]
    assert seen[1][1] > seen[0][1] > 0, "the second batch's keys add to the first's"
    assert ctx.earlier == {}
    assert weights_fingerprint(tiny.model) == before


def test_before_scores_come_from_the_unedited_model_and_the_cell_restores_it(tiny, raw_requests, corpus, monkeypatch):
    from kedit.experiment.evaluate import observe_for
    from kedit.metrics import EvalContext, Metric, get_metric
    from tests.tiny import evaluate

    reqs = make_requests(raw_requests)
    ctx = ctx_for(tiny, corpus)
    unedited = weights_fingerprint(tiny.model)
    seen = {}
    probe = Metric(
        name="probe", before=lambda seen_, requests, ectx: seen.setdefault("before", weights_fingerprint(seen_.loaded.model)),
        after=lambda seen_, requests, ectx, state: seen.setdefault("after", weights_fingerprint(seen_.loaded.model)) and {},
    )
    res = evaluate(ctx, "MEMIT", METHOD_HP["MEMIT"], reqs, [probe, "efficacy", "paraphrase"])
    assert seen["before"] == unedited != seen["after"]
    efficacy = get_metric("efficacy")  # its ``before``: the score of the model it is given, here the restored one
    assert res.metrics["efficacy_before"] == efficacy.before(observe_for(tiny, [efficacy], reqs), reqs, EvalContext()).value
    assert "paraphrase_before" in res.metrics
    assert weights_fingerprint(tiny.model) == unedited


def test_metrics_rows_scored_together_give_the_scores_of_separate_passes(tiny, raw_requests, monkeypatch):
    """Every metric's rows go through one scoring call per phase; each metric then finds its
    rows there, with the scores it would have got alone."""
    from kedit.experiment.evaluate import BeforeStates, scores_after
    from kedit.metrics import EvalContext, get_metric, scoring, value_of

    reqs = make_requests(raw_requests)
    chosen = [get_metric(m) for m in ("efficacy", "paraphrase", "specificity", "efficacy_prob", "paraphrase_prob", "efficacy_exact", "paraphrase_exact")]
    ectx = EvalContext(edit_layers=(1, 2))
    before = BeforeStates().get(tiny, chosen, reqs, ectx)
    separate = {}
    for m in chosen:
        separate |= scores_after(tiny, [m], reqs, ectx, before)
    calls = []
    score = scoring.score
    monkeypatch.setattr(scoring, "score", lambda loaded, rows: calls.append(len(rows)) or score(loaded, rows))
    together = scores_after(tiny, chosen, reqs, ectx, before)
    assert calls == [len({r for m in chosen for r in m.rows(reqs)})]
    # measured identical on every tiny architecture: 1e-6 admits float rounding only, far below one token's share of a score
    assert {k: value_of(v) for k, v in together.items()} == pytest.approx({k: value_of(v) for k, v in separate.items()}, abs=1e-6)
    for k, v in together.items():  # and so are the per-edit scores
        assert list(v.scores) == pytest.approx(list(separate[k].scores), abs=1e-6) and v.weights == separate[k].weights


def test_cells_of_one_batch_share_the_metrics_look_at_the_unedited_model(tiny, raw_requests, corpus, monkeypatch):
    from kedit.experiment.evaluate import BeforeStates
    from kedit.metrics import Metric
    from tests.tiny import evaluate

    reqs = make_requests(raw_requests)
    ctx = ctx_for(tiny, corpus)
    looks = []
    probe = Metric(name="probe", before=lambda loaded, requests, ectx: looks.append(len(requests)) or len(looks), after=lambda loaded, requests, ectx, state: {"probe": state})
    layer_looks = []  # a metric whose look depends on the edited layers (as AKD's does)
    layer_probe = Metric(name="layer_probe", before=lambda loaded, requests, ectx: layer_looks.append(ectx.edit_layers) or 0,
                         after=lambda loaded, requests, ectx, state: {"layer_probe": 0.0}, before_reads_context=True)
    cache = BeforeStates()
    names = [probe, layer_probe, "efficacy", "specificity"]
    first = evaluate(ctx, "MEMIT", METHOD_HP["MEMIT"], reqs, names, before=cache)
    second = evaluate(ctx, "MEMIT-Merge", METHOD_HP["MEMIT-Merge"], reqs, names, before=cache)
    assert looks == [len(reqs)] and first.metrics["probe"] == second.metrics["probe"] == 1
    assert first.metrics["efficacy_before"] == second.metrics["efficacy_before"]
    third = evaluate(ctx, "FT-L", METHOD_HP["FT-L"], reqs, names, before=cache)  # other layers
    assert looks == [len(reqs)] and third.metrics["efficacy_before"] == first.metrics["efficacy_before"]
    assert layer_looks == [tuple(METHOD_HP["MEMIT"]["layers"]), tuple(METHOD_HP["FT-L"]["layers"])]
    alone = evaluate(ctx, "MEMIT-Merge", METHOD_HP["MEMIT-Merge"], reqs, ["efficacy", "specificity"])
    assert alone.metrics == {k: v for k, v in second.metrics.items() if k not in ("probe", "layer_probe")}
    evaluate(ctx, "MEMIT", METHOD_HP["MEMIT"], reqs[:2], [probe], before=cache)  # another batch: a new look
    assert looks == [len(reqs), 2]
