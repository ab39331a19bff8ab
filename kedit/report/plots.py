"""Report plots (PNG, matplotlib's Agg backend): efficacy vs batch size, and AKD vs efficacy."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from kedit.util import atomic_path  # noqa: E402


def _finish(fig, ax, path: Path, title: str, xlabel: str) -> bool:
    """Common axes dressing (efficacy on y), save as PNG, close."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel("efficacy")
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
    return True


def _efficacy_vs_batch(report: dict, path: Path) -> bool:
    summary = report["summary"]
    if len({s["batch_size"] for s in summary}) < 2:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for ds in report["datasets"]:
        for label in dict.fromkeys(s["label"] for s in summary):
            pts = sorted((s["batch_size"], s["metrics"].get("efficacy")) for s in summary if s["dataset"] == ds and s["label"] == label)
            pts = [(b, e) for b, e in pts if e is not None]
            if pts:
                ax.plot(*zip(*pts), marker="o", label=f"{label} ({ds})" if len(report["datasets"]) > 1 else label)
    return _finish(fig, ax, path, f"Efficacy vs batch size — {report['model']['name']}", "batch size (edits)")


def _akd_vs_efficacy(report: dict, path: Path) -> bool:
    cells = [c for c in report["cells"] if "akd" in c["metrics"] and "efficacy" in c["metrics"]]
    if not cells:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for label in dict.fromkeys(c["label"] for c in cells):
        for ds in report["datasets"]:
            pts = [(c["metrics"]["akd"], c["metrics"]["efficacy"]) for c in cells if c["label"] == label and c["dataset"] == ds]
            if pts:
                ax.scatter(*zip(*pts), label=f"{label} ({ds})", alpha=0.8)
    return _finish(fig, ax, path, "AKD vs efficacy", "AKD (mean pairwise key distance)")


def _retention(report: dict, path: Path) -> bool:
    """Sequential editing: efficacy of the first batch after each later batch."""
    chains = [c for c in report["cells"] if c.get("steps")]
    if not chains:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for c in chains:
        pts = [(s["step"], s["first_batch"].get("efficacy")) for s in c["steps"]]
        ax.plot(*zip(*pts), marker="o", label=f"{c['label']} ({c['dataset']}, batches of {c['batch_size']})")
    return _finish(fig, ax, path, "Sequential editing: first batch's efficacy", "batches applied after the first")


PLOTS = {"efficacy_vs_batch_size.png": _efficacy_vs_batch, "akd_vs_efficacy.png": _akd_vs_efficacy, "sequential_retention.png": _retention}


def write_plots(report: dict, where: Path) -> list[str]:
    """Write every plot the report has data for; returns their file names."""
    return [name for name, draw in PLOTS.items() if draw(report, where / name)]
