"""kedit.report.tradeoff: a sweep's runs become one curve in the sweep's order, every other run
a point of its own, one panel per dataset; nothing where there is no trade-off to show."""

from __future__ import annotations

from kedit.report.tradeoff import tradeoff
from kedit.report.view import View
from tests.report.reports import EASYEDIT, SWEEP, minimal_report, sweep_report


def test_a_sweep_is_one_curve_in_its_order_and_a_single_run_a_point_of_its_own():
    (panel,) = tradeoff(View.of(sweep_report()))
    assert (panel.dataset, panel.batch_size, panel.unedited) == ("dataset", 4, None)
    curve, single = panel.curves
    assert curve.swept and curve.name == "MEMIT: sweep of mom2_update_weight"
    assert [p.text for p in curve.points] == [f"λ={lam}" for lam in SWEEP]  # the report lists them in reverse
    assert [p.efficacy.mean for p in curve.points] == [sum(e) / 4 for e, _ in SWEEP.values()]
    assert [p.specificity.mean for p in curve.points] == [sum(s) / 4 for _, s in SWEEP.values()]
    assert all(p.efficacy.interval and p.specificity.interval for p in curve.points)
    assert not single.swept and single.name == EASYEDIT and [p.label for p in single.points] == [EASYEDIT]
    assert (single.points[0].efficacy.mean, single.points[0].specificity.mean) == (0.0625, 0.9375)


def test_one_panel_per_dataset_with_the_unedited_models_efficacy():
    report = sweep_report(datasets=("same", "distinct"))
    for c in report["cells"]:
        c["metrics"]["efficacy_before"] = 0.25 if c["dataset"] == "same" else 0.125
    panels = tradeoff(View.of(report))
    assert [(p.dataset, p.unedited, len(p.curves)) for p in panels] == [("same", 0.25, 2), ("distinct", 0.125, 2)]


def test_no_tradeoff_without_a_sweep_or_without_two_runs_with_both_metrics():
    assert tradeoff(View.of(sweep_report(sweep=False))) == []
    assert tradeoff(View.of(minimal_report())) == []  # efficacy only
    one = sweep_report()
    one["cells"] = [c for c in one["cells"] if c["label"] == "MEMIT λ=1000"]
    assert tradeoff(View.of(one)) == []
