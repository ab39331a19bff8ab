"""kedit.report.render: report.md's table gives each value's interval and n, counts as whole
numbers, a legend for every abbreviation, metric and method, and the model named exactly; a
report made before per-edit scores renders with a note instead of intervals."""

from __future__ import annotations

from kedit.report.render import render_markdown
from kedit.report.view import View
from tests.report.reports import minimal_report, old_report, table_report


def test_values_carry_their_interval_and_n_and_a_legend_follows_the_table():
    md = render_markdown(View.of(table_report()))
    view = View.of(table_report())
    e = next(r for r in view.rows if r.label == "MEMIT-Merge" and r.dataset == "same_subject").estimates["efficacy"]
    assert f"0.812 [{e.interval[0]:.3f}, {e.interval[1]:.3f}]" in md and e.interval[0] < 0.8125 < e.interval[1]
    assert "| Method | same_subject n | same_subject Eff. | same_subject AKD | 50%_a&b n |" in md
    assert "| (unedited model) | 4 | 0.125 [" in md
    assert "| same_subject | MEMIT | 4 | 6 |" in md, "a count prints as a whole number"
    legend = md[md.index("Legend:"):]
    for line in ("- Eff. = `efficacy`: token accuracy of the new object after the edit prompt", "- AKD = `akd`: what akd is",
                 "- `akd_collisions`: what akd_collisions is (a count)", "- MEMIT-Merge: what MEMIT-Merge is", "- FT_L: what FT_L is",
                 "- (unedited model): the same metrics on the model before any edit",
                 "- [low, high]: the 95% percentile bootstrap interval over edits", "B = 2000 resamples, random.Random seed 0",
                 "- no interval for `akd`, `akd_collisions`: not a mean over edits", "- n: edits scored"):
        assert line in legend, line
    assert "Model: a random llama of four layers (spec name `tiny`; llama, 4 layers, run in float32)." in md


def test_a_report_made_before_per_edit_scores_renders_with_n_and_says_why_it_has_no_interval():
    md = render_markdown(View.of(old_report()))
    assert ("No interval: report made with kedit 0 (report format 1), before kedit kept per-edit scores (report format 2); "
            "n counts the edits of each cell's batch.") in md
    assert "| MEMIT | 4 | 0.250 |" in md and "[" not in md.split("Legend:")[0].split("\n", 6)[-1]
    assert "- Eff. = `efficacy`: token accuracy of the new object after the edit prompt" in md  # from the metric registry
    assert "Model: the Hugging Face Hub model tiny" in md


def test_a_value_resting_on_fewer_edits_than_its_row_says_so():
    report = minimal_report()
    report["cells"][1]["per_edit"]["paraphrase"] = [1.0, None, 0.0, None]
    report["cells"][1]["metrics"]["paraphrase"] = 0.5
    md = render_markdown(View.of(report))
    assert "| MEMIT | 4 | 0.250 [0.000, 0.750] | 0.500 [0.000, 1.000] (n=2) |" in md


def test_legend_names_what_a_labelled_variant_changes():
    from kedit.report.legend import build_legend

    methods = [
        {"name": "MEMIT-Merge", "label": "MEMIT-Merge", "hparams": {"mom2_update_weight": 3500, "preserve_subjects": 0}},
        {"name": "MEMIT-Merge", "label": "keep names", "hparams": {"mom2_update_weight": 3500, "preserve_subjects": 1000}},
        {"name": "MEMIT", "label": "MEMIT λ=500", "hparams": {"mom2_update_weight": 500}},
    ]
    legend = build_legend(methods, ["efficacy"], {"efficacy"}).to_dict()["methods"]
    assert legend["keep names"].startswith("MEMIT-Merge with preserve_subjects 1000: MEMIT with one shared value")
    assert legend["MEMIT λ=500"].startswith("MEMIT: Mass-editing")  # no unlabelled MEMIT entry to compare with
    assert legend["MEMIT-Merge"].startswith("MEMIT with one shared value")
