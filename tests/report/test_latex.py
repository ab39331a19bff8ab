"""kedit.report.latex: a booktabs table shaped like Table 1 that compiles: text from the report
escaped, every row as wide as the header, the best value of each column bold in the metric's
direction, intervals as \\pm. Compiled with pdflatex where it is installed."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from kedit.report.latex import escape, render_latex
from kedit.report.view import View
from tests.report.reports import old_report, table_report


def _rows(tex: str) -> list[str]:
    body = tex[tex.index(r"\midrule"): tex.index(r"\bottomrule")]
    return [line for line in body.splitlines() if line.endswith(r"\\")]


def test_special_characters_are_escaped():
    assert escape("50%_a&b $x$ #1 {y} ~ ^ \\") == r"50\%\_a\&b \$x\$ \#1 \{y\} \textasciitilde{} \textasciicircum{} \textbackslash{}"


def test_the_table_has_booktabs_rules_escaped_names_and_rows_as_wide_as_the_header():
    tex = render_latex(View.of(table_report()))
    for needed in (r"\begin{table}", r"\begin{tabular}{l cc cc}", r"\toprule", r"\cmidrule(lr){2-3} \cmidrule(lr){4-5}", r"\bottomrule",
                   r"\end{tabular}", r"\end{table}", r"\multicolumn{2}{c}{50\%\_a\&b}", r"\multicolumn{2}{c}{same\_subject}", "FT\\_L & "):
        assert needed in tex, needed
    assert tex.count(r"\begin{") == tex.count(r"\end{")
    header = next(line for line in tex.splitlines() if line.startswith("Method &"))
    assert header == r"Method & Eff. $\uparrow$ & AKD $\downarrow$ & Eff. $\uparrow$ & AKD $\downarrow$ \\"
    rows = _rows(tex)
    assert [r.split(" & ")[0] for r in rows] == ["Unedited model", "MEMIT", "MEMIT-Merge", "FT\\_L"]
    assert all(r.count(" & ") == header.count(" & ") for r in rows)
    body = "\n".join(tex.splitlines()[1:])  # after the comment line
    bare = re.sub(r"\\[&%_#$]", "", body).replace(" & ", " ")
    assert re.search(r"[&%_#]", bare) is None, "a special character left unescaped"


def test_the_best_of_each_column_is_bold_in_the_metrics_direction():
    rows = {r.split(" & ")[0]: r.split(" & ") for r in _rows(render_latex(View.of(table_report())))}
    assert rows["MEMIT-Merge"][1].startswith(r"$\mathbf{0.812 \pm ")  # efficacy: highest is best
    assert not rows["MEMIT"][1].startswith(r"$\mathbf")
    assert rows["MEMIT"][2] == rows["MEMIT-Merge"][2] == r"$\mathbf{0.000}$"  # AKD, lower is best here: the tie is bold twice
    assert rows["FT\\_L"][2] == "$2.500$"
    assert "mathbf" not in " ".join(rows["Unedited model"]), "the unedited model does not compete"


def test_the_interval_is_its_half_width_and_the_caption_says_what_it_is():
    view = View.of(table_report())
    e = next(r for r in view.rows if r.label == "MEMIT" and r.dataset == "same_subject").estimates["efficacy"]
    tex = render_latex(view)
    assert rf"$0.312 \pm {(e.interval[1] - e.interval[0]) / 2:.3f}$" in tex
    assert r"Values: mean $\pm$ half the width of its interval." in tex and "B = 2000 resamples, random.Random seed 0" in tex


def test_a_report_made_before_per_edit_scores_has_no_pm_and_says_why():
    tex = render_latex(View.of(old_report(table_report())))
    assert r"\pm" not in tex and "No interval: report made with kedit 0 (report format 1)" in tex


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed; the structure is checked above")
def test_the_table_compiles_with_pdflatex(tmp_path):
    doc = "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n" + render_latex(View.of(table_report())) + "\\end{document}\n"
    (tmp_path / "t.tex").write_text(doc)
    res = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stdout[-2000:]
    assert (tmp_path / "t.pdf").stat().st_size > 1000
