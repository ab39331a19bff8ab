"""kedit.report.interval: the percentile bootstrap against cases with a known answer, its
coverage on Bernoulli samples, and that it needs neither numpy nor torch."""

from __future__ import annotations

import math
import random
import subprocess
import sys

import pytest

from kedit.report.interval import Bootstrap, Sample, bootstrap_interval


@pytest.mark.parametrize("samples", [
    [Sample((0.7,) * 16)],
    [Sample((0.7,) * 16), Sample((0.7,) * 5)],
    [Sample((0.7, 0.7, 0.7), (1, 4, 2))],
], ids=["one cell", "two cells", "weighted"])
def test_equal_scores_give_a_zero_width_interval_at_their_value(samples):
    low, high = bootstrap_interval(samples)
    assert low == pytest.approx(0.7, abs=1e-12) and high == pytest.approx(0.7, abs=1e-12)


def test_two_edits_zero_and_one_span_the_whole_range():
    """Means of two draws from {0, 1} are 0, 1/2, 1 with chances 1/4, 1/2, 1/4: both 2.5 % tails sit at the ends."""
    assert bootstrap_interval([Sample((0.0, 1.0))]) == (0.0, 1.0)


def test_cells_are_resampled_before_their_edits():
    """Two cells, one all 0 and one all 1: the edits within a cell never vary, so the spread
    comes from drawing cells (means 0, 1/2, 1); edits pooled into one cell would give a narrow interval."""
    assert bootstrap_interval([Sample((0.0,) * 50), Sample((1.0,) * 50)]) == (0.0, 1.0)
    low, high = bootstrap_interval([Sample((0.0,) * 50 + (1.0,) * 50)])
    assert 0.35 < low < 0.45 and 0.55 < high < 0.65


def test_weights_count_each_edit_as_its_prompts():
    """An edit with weight 3 counts as three prompts: equal weights give the unweighted interval,
    and a heavy edit pulls the interval towards its score."""
    rng = random.Random(1)
    scores = tuple(rng.random() for _ in range(30))
    plain = bootstrap_interval([Sample(scores)])
    assert plain[0] < plain[1]
    assert bootstrap_interval([Sample(scores, (3,) * 30)]) == pytest.approx(plain, abs=1e-12)
    heavy = bootstrap_interval([Sample((0.0,) * 10 + (1.0,), (1,) * 10 + (30,))])
    light = bootstrap_interval([Sample((0.0,) * 10 + (1.0,))])
    assert heavy[1] > light[1] and heavy[0] >= light[0]


def test_the_interval_is_deterministic_and_follows_the_seed():
    rng = random.Random(2)
    sample = [Sample(tuple(rng.random() for _ in range(20)))]
    assert bootstrap_interval(sample) == bootstrap_interval(sample)
    assert bootstrap_interval(sample, Bootstrap(seed=1)) != bootstrap_interval(sample, Bootstrap(seed=0))


def test_a_large_sample_matches_the_normal_approximation():
    """400 Bernoulli draws: the 95 % interval's half-width is 1.96 standard errors, to within 10 %."""
    rng = random.Random(3)
    scores = tuple(float(rng.random() < 0.3) for _ in range(400))
    p = sum(scores) / len(scores)
    low, high = bootstrap_interval([Sample(scores)])
    assert (high - low) / 2 == pytest.approx(1.96 * math.sqrt(p * (1 - p) / len(scores)), rel=0.1)
    assert low < p < high


def test_coverage_on_bernoulli_samples_is_near_the_level():
    """200 samples of 40 Bernoulli(0.3) edits: the 95 % interval holds 0.3 in 90-98 % of them
    (the percentile bootstrap runs a little under its level on small samples)."""
    boot = Bootstrap(resamples=1000)
    covered = 0
    for i in range(200):
        rng = random.Random(100 + i)
        low, high = bootstrap_interval([Sample(tuple(float(rng.random() < 0.3) for _ in range(40)))], boot)
        covered += low <= 0.3 <= high
    assert 0.90 <= covered / 200 <= 0.98, covered


def test_an_empty_cell_is_refused():
    with pytest.raises(ValueError, match="at least one edit"):
        bootstrap_interval([Sample(())])
    with pytest.raises(ValueError, match="at least one cell"):
        bootstrap_interval([])


def test_the_bootstrap_needs_neither_numpy_nor_torch():
    code = "import sys, kedit.report.interval; print(sorted(m for m in ('numpy', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
