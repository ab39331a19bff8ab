"""Report plots (PNG, matplotlib's Agg backend): efficacy vs batch size and AKD vs efficacy (each
with the efficacy's interval as error bars, axes from 0), sequential retention, and the
efficacy-specificity trade-off of sweeps (both intervals as error bars)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from kedit.report.summary import Estimate  # noqa: E402
from kedit.report.tradeoff import tradeoff  # noqa: E402
from kedit.report.view import View  # noqa: E402
from kedit.util import atomic_path  # noqa: E402


def _dress(ax, title: str, xlabel: str, ylabel: str = "efficacy", right: float | None = None) -> None:
    """Common axes dressing: labels, both axes from 0 (y to 1), grid and legend."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(left=0, right=right)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def _save(fig, path: Path, note: str | None = None) -> bool:
    """The figure with ``note`` under it as PNG at ``path``, then closed."""
    if note:
        fig.text(0.01, 0.01, note, fontsize=6, wrap=True)
    fig.tight_layout(rect=(0, 0.05 if note else 0, 1, 1))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
    return True


def _finish(fig, ax, path: Path, title: str, xlabel: str, note: str | None = None) -> bool:
    """One panel with efficacy on y, dressed and saved."""
    _dress(ax, title, xlabel)
    return _save(fig, path, note)


def _errors(estimates: list[Estimate]) -> list[list[float]] | None:
    """Error bars (below, above) from the estimates' intervals, or None where none has an interval."""
    if all(e.interval is None for e in estimates):
        return None
    return [[max(0.0, e.mean - e.interval[0]) if e.interval else 0.0 for e in estimates],
            [max(0.0, e.interval[1] - e.mean) if e.interval else 0.0 for e in estimates]]


def _bar_note(view: View) -> str:
    return view.interval_text() if view.no_interval_note() else f"Error bars: {view.boot.describe()}."


def _efficacy_vs_batch(view: View, path: Path) -> bool:
    rows = [r for r in view.rows if r.value("efficacy") is not None]
    sizes: dict[tuple, set] = {}
    for r in rows:
        sizes.setdefault((r.dataset, r.label), set()).add(r.batch_size)
    if all(len(s) < 2 for s in sizes.values()):  # no curve: datasets of different sizes are not a batch-size axis
        return False
    fig, ax = plt.subplots(figsize=(6, 4.3))
    for ds in view.datasets:
        for label in dict.fromkeys(r.label for r in rows):
            pts = sorted(((r.batch_size, r.estimates["efficacy"]) for r in rows if r.dataset == ds and r.label == label), key=lambda p: p[0])
            if pts:
                ax.errorbar([b for b, _ in pts], [e.mean for _, e in pts], yerr=_errors([e for _, e in pts]), marker="o", capsize=3, clip_on=False,
                            label=f"{label} ({ds})" if len(view.datasets) > 1 else label)
    return _finish(fig, ax, path, f"Efficacy vs batch size — {view.data['model']['name']}", "batch size (edits)", _bar_note(view))


def _akd_vs_efficacy(view: View, path: Path) -> bool:
    """One point per table row: its mean AKD (no interval: not a mean over edits) against its efficacy, with the efficacy's interval."""
    rows = [r for r in view.rows if r.value("akd") is not None and r.value("efficacy") is not None]
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(6, 4.3))
    for label in dict.fromkeys(r.label for r in rows):
        for ds in view.datasets:
            pts = [(r.value("akd"), r.estimates["efficacy"]) for r in rows if r.label == label and r.dataset == ds]
            if pts:
                ax.errorbar([a for a, _ in pts], [e.mean for _, e in pts], yerr=_errors([e for _, e in pts]), fmt="o", capsize=3, alpha=0.8, clip_on=False,
                            label=f"{label} ({ds})")
    return _finish(fig, ax, path, "AKD vs efficacy", "AKD (mean pairwise key distance)", _bar_note(view))


def _retention(view: View, path: Path) -> bool:
    """Sequential editing: efficacy of the first batch after each later batch."""
    chains = [c for c in view.data["cells"] if c.get("steps")]
    if not chains:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for c in chains:
        pts = [(s["step"], s["first_batch"].get("efficacy")) for s in c["steps"]]
        ax.plot(*zip(*pts), marker="o", label=f"{c['label']} ({c['dataset']}, batches of {c['batch_size']})")
    return _finish(fig, ax, path, "Sequential editing: first batch's efficacy", "batches applied after the first")


def _tradeoff(view: View, path: Path) -> bool:
    """Efficacy against specificity, each with its interval as error bars: a sweep's points
    joined in its order and annotated with its values, every other run a labelled marker; one
    panel per dataset (:mod:`kedit.report.tradeoff`)."""
    panels = tradeoff(view)
    if not panels:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 5.5), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for k, curve in enumerate(panel.curves):
            x, y = [p.efficacy for p in curve.points], [p.specificity for p in curve.points]
            style = {"fmt": "-o"} if curve.swept else {"fmt": "s", "markersize": 7}
            drawn = ax.errorbar([e.mean for e in x], [e.mean for e in y], xerr=_errors(x), yerr=_errors(y), capsize=3, clip_on=False,
                                label=curve.name, **style)
            for i, p in enumerate(curve.points if curve.swept else ()):  # in the curve's colour, above and below in turn
                ax.annotate(p.text, (p.efficacy.mean, p.specificity.mean), textcoords="offset points", xytext=(5, 5 if (i + k) % 2 == 0 else -11),
                            fontsize=7, color=drawn.lines[0].get_color(), bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})
        if panel.unedited is not None:
            ax.axvline(panel.unedited, color="grey", linestyle=":", label="unedited model's efficacy")
        _dress(ax, f"{panel.dataset}, batch {panel.batch_size}", "efficacy", "specificity", right=1.02)
    fig.suptitle(f"Efficacy-specificity trade-off — {view.data['model']['name']}")
    return _save(fig, path, _bar_note(view))


PLOTS = {"efficacy_vs_batch_size.png": _efficacy_vs_batch, "akd_vs_efficacy.png": _akd_vs_efficacy, "sequential_retention.png": _retention,
         "tradeoff.png": _tradeoff}


def write_plots(view: View, where: Path) -> list[str]:
    """Write every plot the report has data for; returns their file names."""
    return [name for name, draw in PLOTS.items() if draw(view, where / name)]
