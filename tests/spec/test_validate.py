"""``kedit validate``: green on the shipped specs, red with located errors on broken ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kedit.cli import main

ROOT = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).parent / "broken"

# file -> (line, JSON pointer, a phrase of the message)
EXPECTED = {
    "empty_batch_sizes.yaml": (4, "/batch_sizes", "should be non-empty"),
    "format_without_file.yaml": (2, "/dataset", "'file' is a dependency of 'format'"),
    "hparam_wrong_type.yaml": (6, "/methods/0/hparams/v_lr", "'fast' is not of type 'number'"),
    "json_wrong_type.json": (2, "/methods/0/hparams/clamp_norm_factor", "'big' is not of type 'number'"),
    "layers_not_ascending.yaml": (5, "/methods/0/hparams", "ascending"),
    "malformed_yaml.yaml": (4, "", "malformed YAML/JSON at line 4, column 28"),
    "missing_dataset_file.yaml": (2, "/dataset/file", "no_such_data.jsonl does not exist"),
    "published_figure_not_a_number.yaml": (7, "/report/reference/0/figures/MEMIT/same_subject/efficacy", "'high' is not of type 'number'"),
    "relation_not_a_pid.yaml": (5, "/dataset/wikidata/relations/ids/1", "is not a Wikidata property id"),
    "seed_not_integer.yaml": (4, "/seeds/1", "1.5 is not of type 'integer'"),
    "unknown_conflicts_policy.yaml": (4, "/dataset/conflicts", "'ignore' is not one of ['drop', 'error', 'keep_first', 'keep_last', 'warn']"),
    "unknown_method.yaml": (4, "/methods/0/name", "'ROME9' is not one of"),
    "unknown_row_format.yaml": (4, "/dataset/format", "'mquake' is not one of ['auto', 'counterfact', 'easyedit', 'kedit', 'zsre']"),
    "unknown_top_level_key.yaml": (4, "/batch_size", "unknown key 'batch_size'"),
}


def _validate(*args):
    return CliRunner().invoke(main, ["validate", *args])


@pytest.mark.parametrize("folder", ["specs", "benchmarks/gpu"])
def test_the_shipped_specs_are_valid(folder):
    res = _validate(str(ROOT / folder))
    assert res.exit_code == 0, res.output
    assert "0 with errors" in res.output


def test_every_broken_spec_has_a_case():
    assert {p.name for p in BROKEN.iterdir()} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_error_is_located_by_file_line_and_pointer(name):
    line, pointer, phrase = EXPECTED[name]
    res = _validate("--format", "json", str(BROKEN / name))
    (result,) = json.loads(res.stdout)["files"]
    assert not result["valid"]
    assert any(p["line"] == line and p["pointer"] == pointer and phrase in p["message"] for p in result["problems"]), result["problems"]
    assert res.exit_code == (2 if name == "malformed_yaml.yaml" else 1)


def test_text_output_names_file_and_line_and_a_folder_is_checked_whole():
    res = _validate(str(BROKEN))
    assert res.exit_code == 2  # one file is unreadable (malformed), which outranks invalid
    assert f"{BROKEN / 'seed_not_integer.yaml'}:4: /seeds/1:" in res.output
    assert f"{len(EXPECTED)} spec file(s): 0 valid" in res.output


def test_a_missing_path_is_unreadable(tmp_path):
    assert _validate(str(tmp_path / "nope.yaml")).exit_code == 2


def test_includes_merge_under_the_including_spec(tmp_path):
    (tmp_path / "base.yaml").write_text("model: {name: gemma3-270m}\nhparams:\n  MEMIT: {v_lr: 0.7}\n")
    (tmp_path / "spec.yaml").write_text(
        f"include: base.yaml\nname: inc\ndataset: {{file: {ROOT / 'datasets/same_subject'}}}\nmethods:\n  - name: MEMIT\n    hparams: {{v_lr: 0.9, layers: [1, 2]}}\n"
    )
    from kedit.spec import load_spec

    spec = load_spec(tmp_path / "spec.yaml")
    assert spec.model.name == "gemma3-270m"
    assert spec.methods[0].config.v_lr == 0.9 and spec.methods[0].config.layers == [1, 2]
    res = _validate(str(tmp_path))  # base.yaml is a preset (no methods): checked through spec.yaml
    assert res.exit_code == 0 and "1 spec file(s)" in res.output


def test_an_include_cycle_is_reported(tmp_path):
    (tmp_path / "a.yaml").write_text("include: b.yaml\n")
    (tmp_path / "b.yaml").write_text("include: a.yaml\n")
    res = _validate("--format", "json", str(tmp_path / "a.yaml"))
    assert res.exit_code == 1 and "include cycle" in res.stdout


def test_an_embedded_model_brings_its_presets_under_the_specs_hparams(tmp_path):
    """Method defaults < the embedded model's presets < the spec's hparams < the entry's own."""
    import yaml

    from kedit.methods import get_method
    from kedit.spec import load_spec

    preset = yaml.safe_load((ROOT / "kedit/models/presets/gemma3-270m.yaml").read_text())["hparams"]
    spec_text = (
        f"name: p\ndataset: {{file: {ROOT / 'datasets/same_subject'}}}\nMODEL"
        "hparams:\n  MEMIT: {v_lr: 0.7}\nmethods:\n  - name: MEMIT\n    hparams: {layers: [2, 3]}\n  - name: FT-L\n"
    )
    (tmp_path / "gemma.yaml").write_text(spec_text.replace("MODEL", "model: {name: gemma3-270m}\n"))
    memit, ftl = load_spec(tmp_path / "gemma.yaml").methods
    assert memit.config.mom2_update_weight == preset["MEMIT"]["mom2_update_weight"] != get_method("MEMIT").parse({}).mom2_update_weight
    assert memit.config.v_lr == 0.7 and memit.config.layers == [2, 3]
    assert ftl.config.layers == preset["FT-L"]["layers"]
    (tmp_path / "local.yaml").write_text(spec_text.replace("MODEL", f"model: {{name: {tmp_path}}}\n"))
    memit, ftl = load_spec(tmp_path / "local.yaml").methods  # not an embedded model: the methods' defaults
    assert memit.config.mom2_update_weight == get_method("MEMIT").parse({}).mom2_update_weight
    assert ftl.config == get_method("FT-L").parse({})
