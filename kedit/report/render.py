"""``report.md``: a table shaped like the paper's Table 1 with n and intervals, its legend, then
per-batch-size detail and provenance.

Table 1 of MEMIT-Merge has one row per method and, per subject setting (dataset),
columns Efficacy / Paraphrase / Specificity; kedit adds AKD, and exact match where a spec
asks for it. With several batch sizes the table uses the largest; a second table lists every size.
A value reads ``mean [low, high]``: the interval of :mod:`kedit.report.interval`.
"""

from __future__ import annotations

from collections import defaultdict

from kedit.report.summary import Estimate, Row
from kedit.report.view import BEFORE, UNEDITED, View, unedited


def number(v: float, count: bool = False) -> str:
    """A value as the tables print it: three decimals, a count as a whole number where it is one."""
    if count:
        return f"{v:.0f}" if v == int(v) else f"{v:.1f}"
    return f"{v:.3f}"


def _value(e: Estimate | None, count: bool, row_n: int | None) -> str:
    """``mean [low, high]``; ``(n=…)`` where it rests on fewer edits than its row's n."""
    if e is None or e.mean is None:
        return "–"
    text = number(e.mean, count)
    if e.interval is not None:
        text += f" [{e.interval[0]:.3f}, {e.interval[1]:.3f}]"
    return text + (f" (n={e.n})" if row_n is not None and e.n != row_n else "")


def _row_n(row: Row, metrics: dict[str, str]) -> int:
    """The n of a row's first table value: the edits it scored."""
    return next((e.n for m in metrics if (e := row.estimates.get(m)) is not None and e.mean is not None), 0)


def _table(view: View, rows: list[Row], datasets: list[str], metrics: dict[str, str], show_n: bool = True) -> list[str]:
    by = {(r.dataset, r.label): r for r in rows}
    labels = list(dict.fromkeys(r.label for r in rows))
    head = ["Method"] + [f"{ds} {short}" for ds in datasets for short in (["n"] if show_n else []) + list(metrics.values())]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label in labels:
        cells = [label]
        for ds in datasets:
            r = by.get((ds, label))
            n = _row_n(r, metrics) if r else None
            cells += ([str(n) if r else "–"] if show_n else []) + [_value(r.estimates.get(m), view.legend.is_count(m), n) if r else "–" for m in metrics]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _published(view: View, datasets: list[str], metrics: dict[str, str]) -> list[str]:
    """The spec's published figures, one table per source, shaped like the measured one (no n, no interval)."""
    out = []
    for ref in view.data["spec"].get("report", {}).get("reference", []):
        rows = [Row(ds, method, 0, 0, (), 0.0, {m: Estimate(v, 0) for m, v in values.items()})
                for method, per_ds in ref["figures"].items() for ds, values in per_ds.items()]
        shown = [ds for ds in datasets if any(r.dataset == ds for r in rows)]
        shown += sorted({r.dataset for r in rows} - set(shown))
        out += [f"Published figures: {ref['setting']} ({ref['source']}); – where the source gives none.", "",
                *_table(view, rows, shown, metrics, show_n=False), ""]
    return out


def _value_diagnostics(cells: list[dict]) -> list[str]:
    """Per (dataset, method, batch size) with target values: mean groups, steps and last NLL per fact."""
    keys = ("groups", "value_steps_mean", "value_nll_mean")
    by = defaultdict(list)
    for c in cells:
        if all(c["info"].get(k) is not None for k in keys):
            by[(c["dataset"], c["label"], c["batch_size"])].append(c["info"])
    if not by:
        return []
    out = [
        "## Target values",
        "",
        "A value NLL well above 0 means the values did not reach their targets (more `v_num_grad_steps` or a larger `v_lr`); "
        "a low NLL with efficacy near the unedited model's means the update could not write them: keys that collide "
        "(AKD near 0: one subject asked for several values, MEMIT's same-subject failure) or a ridge too strong (a smaller `mom2_update_weight`).",
        "",
        "| Dataset | Method | Batch | Groups | Steps | Value NLL |",
        "|---|---|---|---|---|---|",
    ]
    for (ds, label, size), infos in sorted(by.items()):
        mean = {k: sum(i[k] for i in infos) / len(infos) for k in keys}
        out.append(f"| {ds} | {label} | {size} | {mean['groups']:.0f} | {mean['value_steps_mean']:.1f} | {mean['value_nll_mean']:.3f} |")
    return out + [""]


def _listed(items: list, limit: int = 20) -> str:
    """The first ``limit`` items, "; "-separated (a group of rows as "3, 5"), then how many more."""
    shown = "; ".join(", ".join(map(str, x)) if isinstance(x, list) else str(x) for x in items[:limit])
    return shown + (f"; … and {len(items) - limit} more" if len(items) > limit else "")


def _policy(d: dict) -> str:
    c = d["provenance"].get("conflicts")
    return f", conflicts: {c['policy']}" if c else ""


def _collisions(datasets: dict) -> list[str]:
    """A section, when any were found: per dataset, the contradictory and duplicate edits its
    ``conflicts`` policy found (row indices of the file or built set), and the rows it dropped."""
    out = []
    for name, d in datasets.items():
        c = d["provenance"].get("conflicts") or {"contradictory": [], "duplicates": []}
        if not c["contradictory"] and not c["duplicates"]:
            continue
        out.append(f"- {name} (conflicts: {c['policy']}): {len(c['contradictory'])} group(s) of contradictory edits, "
                   f"{len(c['duplicates'])} of duplicates; {len(c['dropped_rows'])} row(s) dropped")
        out += [f"  - {key}, rows: {_listed(c[key])}" for key in ("contradictory", "duplicates") if c[key]]
        out += [f"  - dropped rows: {_listed(c['dropped_rows'], 50)}"] if c["dropped_rows"] else []
    return ["## Contradictory and duplicate edits", "", *out, ""] if out else []


def _header(view: View) -> list[str]:
    spec, model = view.data["spec"], view.data["model"]
    sizes = ", ".join(f"{r.dataset}: {r.batch_size}" for r in {r.dataset: r for r in view.largest()}.values())
    how = view.interval_text() if view.no_interval_note() else f"Each value: mean [low, high], its {view.boot.level:.0%} interval (legend below)."
    named = "" if model["name"] in view.model else f"spec name `{model['name']}`; "
    return [
        f"# kedit report: {spec['name']}",
        "",
        *([spec["description"], ""] if spec.get("description") else []),
        f"Model: {view.model} ({named}{model['model_type']}, {model['n_layers']} layers, run in {model['dtype']}).",
        "",
        f"Seeds {view.data['seeds']}. Batch size ({sizes}). Mean over seeds and batches; n: edits scored. {how}",
        "",
    ]


def _legend(view: View, metrics: dict[str, str], others: list[str]) -> list[str]:
    """What every abbreviation, method and metric of the tables is, and where a value has no interval, why."""
    info = view.legend.metrics
    out = ["Legend:", "", ("- n: edits scored (pooled over seeds and batches: an edit scored under two seeds counts twice); "
                           "a value that rests on fewer edits (no paraphrase prompt, no old object) says so, (n=…)")]
    if view.no_interval_note() is None:
        out.append(f"- [low, high]: the {view.boot.describe()}")
        out += [f"- no interval for {', '.join(f'`{m}`' for m in names)}: {why}" for why, names in _without_interval(view, [*metrics, *others]).items()]
    out += [f"- {short} = `{m}`: {info[m].description if m in info else '–'}" for m, short in metrics.items()]
    out += [f"- `{m}`: {info[m].description if m in info else '–'}" + (" (a count)" if view.legend.is_count(m) else "") for m in others]
    if any(m + BEFORE in info for m in metrics):
        out.append(f"- {UNEDITED}: the same metrics on the model before any edit (the `*{BEFORE}` values)")
    out += [f"- {label}: {summary}" for label, summary in view.legend.methods.items()]
    return out + [""]


def _without_interval(view: View, shown: list[str]) -> dict[str, list[str]]:
    """Reason -> the shown metrics that have a value without an interval somewhere for that reason."""
    out: dict[str, list[str]] = defaultdict(list)
    for m in shown:
        for why in dict.fromkeys(e.no_interval for r in view.rows if (e := r.estimates.get(m)) is not None and e.mean is not None and e.interval is None):
            out[why].append(m)
    return out


def _every_size(view: View, metrics: dict[str, str]) -> list[str]:
    if len({r.batch_size for r in view.rows}) < 2:
        return []
    out = ["## Every batch size", "", "| Dataset | Method | Batch | n | " + " | ".join(metrics.values()) + " | Edit s |", "|" + "---|" * (5 + len(metrics))]
    for r in sorted(view.rows, key=lambda r: (r.dataset, r.label, r.batch_size)):
        n = _row_n(r, metrics)
        out.append(f"| {r.dataset} | {r.label} | {r.batch_size} | {n} | "
                   + " | ".join(_value(r.estimates.get(m), view.legend.is_count(m), n) for m in metrics) + f" | {r.edit_s_mean:.1f} |")
    return out + ["", "Batch: edits per batch; Edit s: seconds to compute the batch's edit (with its share of the target values), mean over the row's cells.", ""]


def _others(view: View, others: list[str]) -> list[str]:
    if not others:
        return []
    out = ["## Other metrics", "", "| Dataset | Method | Batch | " + " | ".join(others) + " |", "|" + "---|" * (3 + len(others))]
    for r in view.rows:
        out.append(f"| {r.dataset} | {r.label} | {r.batch_size} | " + " | ".join(_value(r.estimates.get(m), view.legend.is_count(m), None) for m in others) + " |")
    return out + [""]


def _provenance(report: dict) -> list[str]:
    t = report["timings"]
    return [
        "## Provenance",
        "",
        f"- spec `{report.get('spec_file') or 'unknown'}`, sha256 `{report['spec_sha256'][:16]}…` (resolved spec in report.json)",
        f"- kedit {report['kedit']['version']}, commit `{report['kedit']['git_commit'] or 'unknown'}`; created {report['created']}; report format {report['report_format']}",
        "- datasets: " + "; ".join(f"{n}: {d['rows']} rows, fingerprint `{d['fingerprint'][:16]}…`{_policy(d)}" for n, d in report["datasets"].items()),
        f"- model `{report['model']['source']}`, weights sha256 `{report['model']['fingerprint'][:16]}…`",
        f"- statistics: {report['statistics']['corpus']}, {report['statistics']['n_samples']} windows of {report['statistics']['max_length']} tokens",
        "- libraries: " + ", ".join(f"{k} {v}" for k, v in report["environment"]["libraries"].items() if v),
        f"- machine: {report['environment']['platform']}, {report['environment']['cpu_count']} CPUs",
        f"- time: total {t['total_s']:.0f} s (data {t.get('data_s', 0):.0f} s, load {t.get('load_s', 0):.0f} s, statistics {t.get('statistics_s', 0):.0f} s)"
        + (f"; {t['resumed_cells']} cells reused from an interrupted run" if t.get("resumed_cells") else ""),
        "",
    ]


def render_markdown(view: View, plots: list[str] = ()) -> str:
    metrics = view.table_metrics()
    present = {m for r in view.rows for m, e in r.estimates.items() if e.mean is not None}
    others = sorted(present - set(metrics) - {m for m in present if m.startswith("akd_layer_") or m.endswith("_before")})
    top = view.largest()
    out = _header(view) + _table(view, unedited(top) + top, view.datasets, metrics) + [""] + _legend(view, metrics, others)
    out += _published(view, view.datasets, metrics) + _every_size(view, metrics) + _others(view, others)
    out += _value_diagnostics(view.data["cells"])
    for p in plots:
        out += [f"![{p}]({p})", ""]
    return "\n".join(out + _collisions(view.data["datasets"]) + _provenance(view.data))
