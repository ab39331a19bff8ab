"""The resolved edit spec: dataclasses for its sections, and the spec as a whole.

The JSON Schema validates a spec's shape; :func:`resolve` then turns the validated mapping
into a :class:`Spec` (defaults filled in), which is what ``kedit run`` executes and what
the report records.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from importlib.resources import files
from typing import Literal

import yaml

from kedit.methods.registry import MethodRun
from kedit.util import dataclass_schema, help_field


class _Section:
    @classmethod
    def schema(cls, **_) -> dict:
        return dataclass_schema(cls)


@dataclass
class ModelSection(_Section):
    """The model to edit."""

    name: str = help_field(
        "smollm2-135m",
        "Embedded name (smollm2-135m, gemma3-270m; these bring per-method hyper-parameter presets, kedit/models/presets/), "
        "a .gguf file, a local directory or a Hugging Face id.",
    )
    dtype: Literal["float32", "bfloat16", "float16"] = help_field("float32", "Weights' dtype; solves always run in float64, statistics as statistics.precision says. float16 overflows in some models (Gemma 3); bfloat16 does not.")
    device: str = help_field("cpu", "torch device, e.g. cpu, cuda, cuda:1.")
    device_map: str | None = help_field(None, "Spread a model too large for one device over several (accelerate), e.g. 'auto'; overrides device. Modules offloaded to the CPU are edited in the copy they are loaded from; disk-offloaded ones cannot be edited.")
    max_memory: dict[str, str] | None = help_field(
        None, "With device_map: the most each device may hold, e.g. {'0': '20GiB', 'cpu': '60GiB'}; leave GPU room for value optimisation's activations."
    )
    offload_folder: str | None = help_field(None, "With device_map: where modules that fit nowhere else are offloaded to disk (those cannot be edited).")

    @classmethod
    def schema(cls, embedded=(), **_) -> dict:
        out = dataclass_schema(cls)
        out["properties"]["name"]["examples"] = list(embedded)
        return out

    def preset_hparams(self) -> dict[str, dict]:
        """Method name -> hyper-parameters chosen for this embedded model
        (``kedit/models/presets/<name>.yaml``); {} for any other model."""
        path = files("kedit") / "models" / "presets" / f"{self.name}.yaml"
        if "/" in self.name or not path.is_file():
            return {}
        return yaml.safe_load(path.read_text(encoding="utf-8"))["hparams"]


@dataclass
class StatisticsSection(_Section):
    """Where the second moments of keys come from (shared by every method of the run)."""

    corpus: str | list[str] = help_field(
        "wikipedia-sample", "'wikipedia-sample' (offline English Wikipedia sample), 'hf:NAME[:CONFIG[:SPLIT[:COLUMN]]]', or text file paths."
    )
    n_samples: int = help_field(1000, "Windows of max_length tokens to average over. 1000: on SmolLM2-135M at its preset every metric of the tuning-split cells and the main job within 0.031 of 2000 windows at half the time (500: 0.061, 250: 0.084; benchmarks/results/stats_samples_preset_smollm2-135m.md).", minimum=1)
    max_length: int = help_field(128, "Tokens per window.", minimum=8)
    batch_size: int = help_field(8, "Windows per forward pass.", minimum=1)
    precision: Literal["auto", "float32", "bfloat16"] = help_field(
        "auto",
        "float32: the forward in the model's dtype and the keys' outer products in float32. bfloat16: the forward under torch.autocast "
        "and the products in bfloat16, 1.8-1.9x faster where the device multiplies bfloat16 natively (x86 AVX512-BF16 or AMX, CUDA "
        "8.0+), slower elsewhere. auto: bfloat16 on such a device, else float32; the report's spec records what it resolved to. Sums are "
        "float64 either way and each precision is cached apart. On SmolLM2-135M bfloat16 moves C by 0.4 % (1000 against 2000 windows: "
        "10-33 %) and no metric of the main job or of 100 distinct-subject MEMIT edits by more than 0.002 "
        "(benchmarks/results/stats_precision_smollm2-135m.md).",
    )


@dataclass
class RuntimeSection(_Section):
    """How to compute, not what: nothing here changes results beyond float rounding."""

    tokens_per_pass: int = help_field(2048, "Tokens per forward/backward pass of value optimisation (memory vs speed): padded rows in its first pass, packed tails in its steps.", minimum=16)
    progress: bool = help_field(True, "Show progress bars.")
    value_optimiser: Literal["batched", "one_by_one", "reference_loop"] = help_field(
        "batched",
        "batched: all edits' values in one forward/backward per step; one_by_one: one edit at a time (same results, slower); "
        "reference_loop: one edit at a time recomputing whole prompts through every block, as the reference implementations do.",
    )


@dataclass
class PublishedFigures(_Section):
    """Published figures that report.md prints beside the measured table (a paper's Table 1, say); never used in computation."""

    source: str = help_field("", "Where the figures come from: citation and table.")
    setting: str = help_field("", "What they were measured on (model, batch size, data), as the source states it.")
    figures: dict[str, dict[str, dict[str, float]]] = help_field({}, "Method label -> dataset name -> metric (efficacy, paraphrase, specificity, akd) -> value.")


@dataclass
class ReportSection(_Section):
    """Where and what to write."""

    out: str = help_field("reports", "Directory under which the report directory is created (relative to the working directory).")
    formats: list[Literal["json", "md", "png"]] = help_field(["json", "md", "png"], "Files to write: report.json, report.md, plots.", uniqueItems=True)
    reference: list[PublishedFigures] = help_field([], "Published figures to print beside the measured ones, each with its source.")

    def __post_init__(self):
        self.reference = [r if isinstance(r, PublishedFigures) else PublishedFigures(**r) for r in self.reference]


SECTIONS = {"model": ModelSection, "statistics": StatisticsSection, "runtime": RuntimeSection, "report": ReportSection}


@dataclass
class Spec:
    """A validated spec with every default filled in."""

    name: str
    description: str
    datasets: dict[str, dict]  # name -> {"wikidata": {...}} | {"file": path, "limit"?: n}
    model: ModelSection
    statistics: StatisticsSection
    runtime: RuntimeSection
    report: ReportSection
    methods: list[MethodRun]  # configs resolved: method defaults < model presets < spec hparams < entry
    batch_sizes: list[int | str]
    batches_per_size: int
    sequential: bool
    seeds: list[int]
    metrics: list[str]
    source: str  # the spec file

    def resolved(self) -> dict:
        """The spec as data, defaults included (what the report records and hashes)."""
        out = dataclasses.asdict(dataclasses.replace(self, methods=[]))
        out.pop("source")
        out["methods"] = [m.to_dict() for m in self.methods]
        return out
