"""What a report's names mean: each method label's summary and each metric value's description
(and whether it counts something), from the method and metric registries.

report.json keeps the legend (``legend``) and the model's description, so rendering a report
needs no registry; a report made before it kept them gets them from the registries (imported
only then) and from :mod:`kedit.models.embedded`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from kedit.experiment.cell import FIRST_BATCH
from kedit.metrics.base import Output


@dataclass(frozen=True)
class Legend:
    """Method label -> what the method is; metric value name -> what it measures."""

    methods: dict[str, str]
    metrics: dict[str, Output]

    def to_dict(self) -> dict:
        return {"methods": dict(self.methods), "metrics": {k: asdict(v) for k, v in self.metrics.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> Legend:
        return cls(dict(data["methods"]), {k: Output(**v) for k, v in data["metrics"].items()})

    def is_count(self, metric: str) -> bool:
        info = self.metrics.get(metric)
        return info is not None and info.count


def _metric_info(name: str, chosen: list[str]) -> Output:
    """What the value ``name`` is, asked of the chosen metrics that may have returned it."""
    from kedit.metrics import METRICS

    if name.startswith(FIRST_BATCH):
        inner = _metric_info(name[len(FIRST_BATCH):], chosen)
        return Output(f"{inner.description}; of the first batch, after the last batch of the chain", inner.count)
    for metric in chosen:
        if metric in METRICS and (out := METRICS[metric].describe(name)) is not None:
            return out
    return Output("(not described by this kedit's metrics)")


def _differences(plain: dict | None, hparams: dict) -> str:
    """The settings of a labelled variant that differ from its method's unlabelled entry
    ("preserve_subjects 1000, preserve_weight 0.3"); "" where the run has no such entry."""
    if plain is None:
        return ""
    return ", ".join(f"{k} {v}" for k, v in hparams.items() if plain.get(k) != v)


def build_legend(methods: list[dict], chosen: list[str], names: set[str]) -> Legend:
    """The legend of a run: ``methods`` as the resolved spec lists them (name, label), the
    spec's chosen metrics, and every value name its cells report."""
    from kedit.methods import METHODS

    plain = {m["name"]: m.get("hparams", {}) for m in methods if m["label"] == m["name"]}

    def summary(m: dict) -> str:
        text = METHODS[m["name"]].summary if m["name"] in METHODS else "(not a method this kedit knows)"
        if m["label"] == m["name"]:
            return text
        differs = _differences(plain.get(m["name"]), m.get("hparams", {}))
        return f"{m['name']} with {differs}: {text}" if differs else f"{m['name']}: {text}"

    return Legend({m["label"]: summary(m) for m in methods}, {n: _metric_info(n, chosen) for n in sorted(names)})


def legend_of(report: dict) -> Legend:
    """The report's legend, or, for a report made before reports kept one, one built now."""
    if "legend" in report:
        return Legend.from_dict(report["legend"])
    names = {k for c in report["cells"] for k in c["metrics"]}
    return build_legend(report["spec"]["methods"], report["spec"]["metrics"], names)


def model_description(report: dict) -> str:
    """What the report's model is: as recorded, or, for a report made before reports recorded it, from its name now."""
    model = report["model"]
    if "description" in model:
        return model["description"]
    from kedit.models.embedded import describe

    return describe(model["name"], model["source"].endswith(".gguf"))
