"""``kedit report DIR --format latex``: a booktabs table shaped like the paper's Table 1.

Methods as rows (the unedited model first, set apart), per dataset a group of metric columns
(its largest batch size), each value ``mean \\pm half-width of its interval``; per column the
best method's value in bold, the highest or the lowest as the metric's direction says (values
that print alike are bold alike; the unedited model does not compete). Needs ``\\usepackage{booktabs}``.
"""

from __future__ import annotations

import re

from kedit.report.render import number
from kedit.report.summary import Estimate, Row
from kedit.report.view import UNEDITED, View, unedited

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
            "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def escape(text: str) -> str:
    """``text`` as LaTeX typesets it literally (its special characters escaped)."""
    return "".join(_SPECIAL.get(ch, ch) for ch in str(text))


def _best(rows: list[Row], metric: str, higher: bool | None, count: bool) -> str | None:
    """The best mean of ``metric`` among ``rows`` as the table prints it, so that values printed
    alike are bold alike (None where the metric has no direction or no value)."""
    values = [float(number(v, count)) for r in rows if (v := r.value(metric)) is not None]
    if higher is None or not values:
        return None
    return number(max(values) if higher else min(values), count)


def _cell(e: Estimate | None, count: bool, bold: bool) -> str:
    if e is None or e.mean is None:
        return "--"
    value = number(e.mean, count)
    if e.interval is not None:
        value += rf" \pm {number((e.interval[1] - e.interval[0]) / 2)}"
    return f"$\\mathbf{{{value}}}$" if bold else f"${value}$"


def _line(view: View, label: str, shown: str, by: dict[tuple[str, str], Row], metrics: dict[str, str], best: dict | None) -> str:
    """One table row: ``label``'s values in every dataset, the best of each column bold (``best``: None for none)."""
    cells = [escape(shown)]
    for ds in view.datasets:
        r = by.get((ds, label))
        for m in metrics:
            e = r.estimates.get(m) if r else None
            bold = best is not None and e is not None and e.mean is not None and number(e.mean, view.legend.is_count(m)) == best[(ds, m)]
            cells.append(_cell(e, view.legend.is_count(m), bold))
    return " & ".join(cells) + r" \\"


def _caption(view: View, metrics: dict[str, str]) -> str:
    """The caption: model, batch sizes, seeds, what each column is, directions, what the spread is."""
    sizes = ", ".join(f"{r.dataset} {r.batch_size}" for r in {r.dataset: r for r in view.largest()}.values())
    defs = "; ".join(f"{short}: {view.legend.metrics[m].description if m in view.legend.metrics else m}" for m, short in metrics.items())
    spread = r"Values: mean $\pm$ half the width of its interval. " if view.no_interval_note() is None else ""
    return (escape(f"{view.model}. Edits per batch: {sizes}; seeds {', '.join(map(str, view.data['seeds']))}. {defs}.")
            + r" $\uparrow$/$\downarrow$: higher/lower is better; the best method per column in bold. " + spread + escape(view.interval_text()))


def render_latex(view: View) -> str:
    """The table (a ``table`` environment) as a string; every text from the report is escaped."""
    metrics = view.table_metrics()
    top = view.largest()
    by = {(r.dataset, r.label): r for r in unedited(top) + top}
    best = {(ds, m): _best([r for r in top if r.dataset == ds], m, view.direction(m), view.legend.is_count(m)) for ds in view.datasets for m in metrics}
    k, arrow = len(metrics), {True: r" $\uparrow$", False: r" $\downarrow$", None: ""}
    out = [
        f"% kedit report {escape(view.data['spec']['name'])}: Table 1 (kedit report DIR --format latex); needs \\usepackage{{booktabs}}",
        r"\begin{table}[t]", r"\centering", r"\small",
        r"\begin{tabular}{l " + " ".join(["c" * k] * len(view.datasets)) + "}",
        r"\toprule",
        " & ".join([""] + [rf"\multicolumn{{{k}}}{{c}}{{{escape(ds)}}}" for ds in view.datasets]) + r" \\",
        " ".join(rf"\cmidrule(lr){{{2 + i * k}-{1 + (i + 1) * k}}}" for i in range(len(view.datasets))),
        " & ".join(["Method"] + [escape(short) + arrow[view.direction(m)] for _ in view.datasets for m, short in metrics.items()]) + r" \\",
        r"\midrule",
    ]
    if unedited(top):
        out += [_line(view, UNEDITED, "Unedited model", by, metrics, None), r"\midrule"]
    out += [_line(view, label, label, by, metrics, best) for label in dict.fromkeys(r.label for r in top)]
    out += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{_caption(view, metrics)}}}",
            rf"\label{{tab:kedit-{re.sub(r'[^A-Za-z0-9-]+', '-', view.data['spec']['name'])}}}", r"\end{table}", ""]
    return "\n".join(out)
