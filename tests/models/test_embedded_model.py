"""The embedded SmolLM2-135M, for real: load it offline, edit a few facts, see them land.

This is the one test that needs the model package (installed by the README's commands);
it takes about a minute on two CPU cores.
"""

from __future__ import annotations

import pytest

from kedit.stats.corpus import get_corpus
from kedit.editing.requests import make_requests
from kedit.methods import EditContext, StatsSettings
from kedit.models import load_model
from tests.tiny import evaluate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm2():
    return load_model("smollm2-135m")


def test_the_embedded_model_loads_offline_with_its_table_row(smollm2):
    assert smollm2.arch.model_type == "llama" and smollm2.n_layers == 30
    assert smollm2.model.config.hidden_size == 576
    tok = smollm2.tokenizer
    ids = tok("The capital of France is", return_tensors="pt")
    out = smollm2.model.generate(**ids, max_new_tokens=3, do_sample=False)
    assert "Paris" in tok.decode(out[0])


def test_memit_merge_writes_same_subject_facts_into_the_embedded_model(smollm2, tmp_path, monkeypatch):
    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path))
    rows = [
        dict(subject="John Smith", prompt="{}'s birthplace is", target_new="Toledo", neighborhood_prompts=[{"prompt": "Barack Obama's birthplace is", "target": "Honolulu"}]),
        dict(subject="John Smith", prompt="{}'s employer is", target_new="Google", neighborhood_prompts=[{"prompt": "Steve Jobs's employer is", "target": "Apple"}]),
    ]
    reqs = make_requests(rows)
    ctx = EditContext(smollm2, StatsSettings(corpus=get_corpus(), n_samples=64, max_length=128), progress=False)
    hp = dict(layers=[4, 5, 6, 7, 8], mom2_update_weight=1500, v_lr=1.0, v_num_grad_steps=30, context_tokens=0)
    res = evaluate(ctx, "MEMIT-Merge", hp, reqs, ["efficacy", "specificity", "akd"])
    # one subject, one key: same-subject keys are bit-identical on the tiny models (AKD 0.0); 1e-3
    # admits float32 rounding only (not measured on SmolLM2: its distinct keys are O(their norm) apart)
    assert res.metrics["akd"] < 1e-3 and res.metrics["akd_collisions"] == 1
    assert res.metrics["efficacy"] >= 0.5
    assert res.info["groups"] == 1
