"""Target values shared by the methods of one batch (kedit.editing.shared_values)."""

from __future__ import annotations

import pytest
import torch

from kedit.editing.requests import make_requests
from kedit.editing.values import VALUE_OPTIMISERS
from kedit.methods import EditContext, get_method, value_store
from tests.tiny import evaluate, make_tiny

VALUES = dict(layers=[1, 2], v_num_grad_steps=6, v_lr=0.5, context_tokens=3)
METHODS = [("MEMIT", VALUES | {"mom2_update_weight": 10.0}), ("MEMIT-Merge", VALUES | {"mom2_update_weight": 10.0}), ("AlphaEdit", VALUES | {"L2": 1.0})]


@pytest.fixture
def llama(tokenizer):
    return make_tiny("llama", tokenizer)


@pytest.fixture
def calls(monkeypatch):
    """The groups (as lists of request texts) of every call of the batched value optimiser."""
    seen = []
    optimise = VALUE_OPTIMISERS["batched"]

    def counted(loaded, requests, groups, *args, **kw):
        seen.append([[requests[i].text for i in g] for g in groups])
        return optimise(loaded, requests, groups, *args, **kw)

    monkeypatch.setitem(VALUE_OPTIMISERS, "batched", counted)
    return seen


def _jobs(ctx, reqs, methods=METHODS):
    return [get_method(name).parse(hp).value_job(ctx, reqs) for name, hp in methods]


def test_methods_asking_for_the_same_groups_get_them_from_one_joint_optimisation(llama, raw_requests, calls):
    """MEMIT and AlphaEdit ask for the same groups of one; MEMIT-Merge for two of them too and
    one group of John Smith's two facts: one run optimises the five distinct groups, and each
    method gets what it would get alone (up to float rounding, as batched vs one by one)."""
    reqs = make_requests(raw_requests)
    ctx = EditContext(llama, progress=False)
    jobs = _jobs(ctx, reqs)
    alone = [ctx.values(job) for job in jobs]
    assert len(calls) == 3 and not any(a.ahead for a in alone)
    calls.clear()
    store = value_store(llama, keep=True, progress=False)
    ctx = EditContext(llama, values=store, progress=False)
    store.compute(jobs)
    shared = [ctx.values(job) for job in jobs]
    assert ctx.values(jobs[0]).values.steps.tolist() == shared[0].values.steps.tolist()
    assert len(calls) == 1
    texts = [r.text for r in reqs]
    assert sorted(calls[0]) == sorted([[t] for t in texts] + [[texts[1], texts[2]]])
    for a, s in zip(alone, shared):
        assert s.ahead
        assert s.values.steps.tolist() == a.values.steps.tolist()
        scale = float(a.values.values[0].norm(dim=1).max())
        # as batched vs one by one (tests/editing/test_values_optimisers.py); measured: 1.5e-7 on
        # values of norm 0.29, 0.2 % of the tolerance; another group's value would be O(norm) away
        torch.testing.assert_close(s.values.values[0], a.values.values[0], rtol=0, atol=1e-4 * scale)
    # each method is charged a third of the joint run: all three asked for four facts
    assert shared[0].seconds == pytest.approx(shared[1].seconds) == pytest.approx(shared[2].seconds)
    assert shared[0].seconds > 0


def test_a_store_that_does_not_keep_optimises_every_ask_again(llama, raw_requests, calls):
    """A context's default store keeps nothing: the weights may have changed between asks
    (sequential editing)."""
    reqs = make_requests(raw_requests)
    ctx = EditContext(llama, progress=False)
    (job,) = _jobs(ctx, reqs, METHODS[:1])
    ctx.values(job)
    ctx.values(job)
    assert len(calls) == 2


def test_other_value_settings_or_sites_are_optimised_apart(llama, raw_requests, calls):
    reqs = make_requests(raw_requests)
    store = value_store(llama, keep=True, progress=False)
    ctx = EditContext(llama, values=store, progress=False)
    methods = [METHODS[0], ("MEMIT", METHODS[0][1] | {"v_lr": 0.1}), ("PMET", VALUES)]
    store.compute(_jobs(ctx, reqs, methods))
    assert len(calls) == 3


def test_cells_of_a_batch_charge_their_share_of_values_optimised_ahead(llama, raw_requests, calls, tmp_path, monkeypatch):
    """The cells' metrics are those of cells that optimise their own values; the time of the
    joint run is in their edit time."""
    from kedit.stats.corpus import text_files
    from kedit.methods import StatsSettings
    from tests.tiny import SENTENCES

    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path / "cache"))
    (tmp_path / "corpus.txt").write_text("\n\n".join(SENTENCES * 3))
    stats = StatsSettings(corpus=text_files([str(tmp_path / "corpus.txt")]), n_samples=64, max_length=16)
    ctx = EditContext(llama, stats, progress=False)
    reqs = make_requests(raw_requests)
    alone = [evaluate(ctx, name, hp, reqs, ["efficacy", "specificity"]) for name, hp in METHODS]
    calls.clear()
    store = value_store(llama, keep=True, progress=False)
    ctx = EditContext(llama, stats, values=store, progress=False)
    configs = [get_method(name).parse(hp) for name, hp in METHODS + [("FT-L", {"layers": [2], "num_steps": 2})]]
    store.compute([job for cfg in configs if (job := cfg.value_job(ctx, reqs)) is not None])  # as kedit run does for a batch
    assert len(calls) == 1
    shared = [evaluate(ctx, name, hp, reqs, ["efficacy", "specificity"]) for name, hp in METHODS]
    assert len(calls) == 1
    for a, s in zip(alone, shared):
        assert s.metrics == pytest.approx(a.metrics, abs=1e-6)  # measured identical: rounding only, far below one token's share
        assert s.info["values_ahead_s"] == s.info["values_s"] > 0
        assert s.timings["edit_s"] >= s.info["values_s"]
        assert a.info["values_ahead_s"] == 0.0
