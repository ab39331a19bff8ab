"""kedit.report.plots: tradeoff.png is drawn from a report with a sweep (one panel per dataset)
and only then, and report.md embeds it as it embeds the other plots."""

from __future__ import annotations

import pytest

from kedit.report.build import render_files
from kedit.report.view import View
from tests.report.reports import minimal_report, sweep_report

pytest.importorskip("matplotlib")


def _png_size(path) -> tuple[int, int]:
    """(width, height) of a PNG from its IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_a_report_with_a_sweep_gets_tradeoff_png_embedded_in_report_md(tmp_path):
    render_files(View.of(sweep_report()), tmp_path)
    assert (tmp_path / "tradeoff.png").stat().st_size > 1000
    assert "![tradeoff.png](tradeoff.png)" in (tmp_path / "report.md").read_text()


def test_several_datasets_get_a_panel_each(tmp_path):
    render_files(View.of(sweep_report()), tmp_path / "one", ("png",))
    render_files(View.of(sweep_report(datasets=("same", "distinct"))), tmp_path / "two", ("png",))
    (w1, h1), (w2, h2) = _png_size(tmp_path / "one" / "tradeoff.png"), _png_size(tmp_path / "two" / "tradeoff.png")
    assert h1 == h2 and w2 == 2 * w1


@pytest.mark.parametrize("report", [sweep_report(sweep=False), minimal_report()], ids=["no sweep", "no specificity"])
def test_no_tradeoff_png_where_there_is_nothing_to_trade_off(tmp_path, report):
    render_files(View.of(report), tmp_path)
    assert not (tmp_path / "tradeoff.png").exists()
    assert "tradeoff.png" not in (tmp_path / "report.md").read_text()


def test_efficacy_vs_batch_size_needs_two_batch_sizes_of_one_dataset(tmp_path):
    from tests.report.reports import cell, report_of

    # one batch size per dataset (e.g. `batch_sizes: [all]` over datasets of 49 and 100 rows): no axis to plot
    render_files(View.of(report_of([cell(0, 2, [1.0, 0.0], dataset="a"), cell(0, 4, [1.0, 0.0, 1.0, 1.0], dataset="b")])), tmp_path / "sizes")
    assert not (tmp_path / "sizes" / "efficacy_vs_batch_size.png").exists()
    render_files(View.of(report_of([cell(0, 2, [1.0, 0.0], dataset="a"), cell(0, 4, [1.0, 0.0, 1.0, 1.0], dataset="a")])), tmp_path / "curve")
    assert (tmp_path / "curve" / "efficacy_vs_batch_size.png").stat().st_size > 1000
