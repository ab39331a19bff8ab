"""``report.md``: a table shaped like the paper's Table 1, then per-batch-size detail and provenance.

Table 1 of MEMIT-Merge has one row per method and, per subject setting (dataset),
columns Efficacy / Paraphrase / Specificity; kedit adds AKD, and exact match where a spec
asks for it. With several batch sizes the table uses the largest; a second table lists every size.
"""

from __future__ import annotations

from collections import defaultdict

TABLE_METRICS = [("efficacy", "Eff."), ("efficacy_exact", "Exact"), ("paraphrase", "Para."), ("specificity", "Spec."), ("akd", "AKD")]


def _fmt(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def _table(summary: list[dict], datasets: list[str], metrics: list[tuple[str, str]]) -> list[str]:
    by = {(s["dataset"], s["label"]): s for s in summary}
    labels = list(dict.fromkeys(s["label"] for s in summary))
    head = ["Method"] + [f"{ds} {short}" for ds in datasets for _, short in metrics]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label in labels:
        cells = [label]
        for ds in datasets:
            s = by.get((ds, label))
            cells += [_fmt(s["metrics"].get(m)) if s else "–" for m, _ in metrics]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _published(references: list[dict], datasets: list[str], metrics: list[tuple[str, str]]) -> list[str]:
    """The spec's published figures, one table per source, shaped like the measured one."""
    out = []
    for ref in references:
        rows = [{"dataset": ds, "label": method, "metrics": values} for method, per_ds in ref["figures"].items() for ds, values in per_ds.items()]
        shown = [ds for ds in datasets if any(r["dataset"] == ds for r in rows)]
        shown += sorted({r["dataset"] for r in rows} - set(shown))
        out += [f"Published figures: {ref['setting']} ({ref['source']}); – where the source gives none.", "", *_table(rows, shown, metrics), ""]
    return out


def _unedited(summary: list[dict]) -> list[dict]:
    """A pseudo-row per dataset from the ``*_before`` scores: what the unedited model already gets right."""
    rows = {}
    for s in summary:
        before = {m: s["metrics"].get(f"{m}_before") for m, _ in TABLE_METRICS}
        if any(v is not None for v in before.values()):
            rows.setdefault(s["dataset"], {"dataset": s["dataset"], "label": "(unedited model)", "metrics": before})
    return list(rows.values())


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


def render_markdown(report: dict, plots: list[str] = ()) -> str:
    spec = report["spec"]
    summary = report["summary"]
    datasets = list(report["datasets"])
    present = {k for s in summary for k, v in s["metrics"].items() if v is not None}
    metrics = [(m, short) for m, short in TABLE_METRICS if m in present]
    largest = {}
    for s in summary:
        largest[s["dataset"]] = max(largest.get(s["dataset"], 0), s["batch_size"])
    top = [s for s in summary if s["batch_size"] == largest[s["dataset"]]]
    sizes = ", ".join(f"{ds}: {n}" for ds, n in largest.items())
    out = [
        f"# kedit report: {spec['name']}",
        "",
        *([spec["description"], ""] if spec.get("description") else []),
        f"Model **{report['model']['name']}** ({report['model']['model_type']}, {report['model']['n_layers']} layers, {report['model']['dtype']}). "
        f"Seeds {report['seeds']}. Batch size ({sizes}). Mean over seeds and batches.",
        "",
        *_table(_unedited(top) + top, datasets, metrics),
        "",
    ]
    out += _published(spec.get("report", {}).get("reference", []), datasets, metrics)
    if len({s["batch_size"] for s in summary}) > 1:
        out += ["## Every batch size", "", "| Dataset | Method | Batch | " + " | ".join(short for _, short in metrics) + " | Edit s |", "|" + "---|" * (4 + len(metrics))]
        for s in sorted(summary, key=lambda s: (s["dataset"], s["label"], s["batch_size"])):
            out.append(f"| {s['dataset']} | {s['label']} | {s['batch_size']} | " + " | ".join(_fmt(s["metrics"].get(m)) for m, _ in metrics) + f" | {s['edit_s_mean']:.1f} |")
        out.append("")
    extra = sorted(present - {m for m, _ in TABLE_METRICS} - {k for k in present if k.startswith("akd_layer_") or k.endswith("_before")})
    if extra:
        out += ["## Other metrics", "", "| Dataset | Method | Batch | " + " | ".join(extra) + " |", "|" + "---|" * (3 + len(extra))]
        for s in summary:
            out.append(f"| {s['dataset']} | {s['label']} | {s['batch_size']} | " + " | ".join(_fmt(s["metrics"].get(m)) for m in extra) + " |")
        out.append("")
    out += _value_diagnostics(report["cells"])
    for p in plots:
        out += [f"![{p}]({p})", ""]
    out += _collisions(report["datasets"])
    per_method = defaultdict(list)
    for m in spec["methods"]:
        per_method[m["label"]] = m["hparams"]
    t = report["timings"]
    out += [
        "## Provenance",
        "",
        f"- spec `{report.get('spec_file') or 'unknown'}`, sha256 `{report['spec_sha256'][:16]}…` (resolved spec in report.json)",
        f"- kedit {report['kedit']['version']}, commit `{report['kedit']['git_commit'] or 'unknown'}`; created {report['created']}",
        "- datasets: " + "; ".join(f"{n}: {d['rows']} rows, fingerprint `{d['fingerprint'][:16]}…`{_policy(d)}" for n, d in report["datasets"].items()),
        f"- model `{report['model']['source']}`, weights sha256 `{report['model']['fingerprint'][:16]}…`",
        f"- statistics: {report['statistics']['corpus']}, {report['statistics']['n_samples']} windows of {report['statistics']['max_length']} tokens",
        "- libraries: " + ", ".join(f"{k} {v}" for k, v in report["environment"]["libraries"].items() if v),
        f"- machine: {report['environment']['platform']}, {report['environment']['cpu_count']} CPUs",
        f"- time: total {t['total_s']:.0f} s (data {t.get('data_s', 0):.0f} s, load {t.get('load_s', 0):.0f} s, statistics {t.get('statistics_s', 0):.0f} s)"
        + (f"; {t['resumed_cells']} cells reused from an interrupted run" if t.get("resumed_cells") else ""),
        "",
    ]
    return "\n".join(out)
