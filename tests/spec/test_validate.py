"""``kedit validate``: green on the shipped specs, red with located errors on broken ones."""

from __future__ import annotations

import json
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from kedit.cli import main

ROOT = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).parent / "broken"

# file -> (line, JSON pointer, a phrase of the message, exit code: 1 invalid, 2 unreadable)
EXPECTED = {
    "alias_bomb.yaml": (7, "/g", "490,329,055 values once its YAML aliases (*name) are expanded (an alias bomb?); a spec may hold at most 1,000,000 (MAX_SPEC_VALUES)", 2),
    "batch_size_float.yaml": (4, "/batch_sizes/1", "2.0: write a whole number without a decimal point (2)", 1),
    "duplicate_hparam.yaml": (8, "/methods/0/hparams/v_lr", "key 'v_lr' written twice in this mapping (first at line 6)", 1),
    "duplicate_key.json": (6, "/methods/0/hparams/v_lr", "key 'v_lr' written twice in this mapping (first at line 5)", 1),
    "duplicate_top_level_key.yaml": (5, "/methods", "key 'methods' written twice in this mapping (first at line 3)", 1),
    "dataset_and_datasets.yaml": (3, "/datasets", "give `dataset` or `datasets`, not both", 1),
    "empty_batch_sizes.yaml": (4, "/batch_sizes", "should be non-empty", 1),
    "format_without_file.yaml": (2, "/dataset", "'file' is a dependency of 'format'", 1),
    "fragment_unmarked.yaml": (2, "", "'methods' is a required property (a file that specs include and that runs no methods of its own is a fragment: say so with a top-level `fragment: true`)", 1),
    "fragment_with_methods.yaml": (4, "/methods", "a fragment (`fragment: true`) runs no methods", 1),
    "fragment_wrong_type.yaml": (4, "/hparams/MEMIT/v_lr", "'fast' is not of type 'number'", 1),
    "grad_steps_float.yaml": (5, "/methods/0/hparams/v_num_grad_steps", "10.0: write a whole number without a decimal point (10)", 1),
    "grouped_facts_over_relations.yaml": (10, "/dataset/wikidata/subjects/facts", "100 facts per subject need 100 distinct relations but the set has 10", 1),
    "grouped_without_shape.yaml": (5, "/dataset/wikidata/subjects", "policy 'grouped' needs subjects.groups and subjects.facts", 1),
    "hparam_wrong_type.yaml": (6, "/methods/0/hparams/v_lr", "'fast' is not of type 'number'", 1),
    "impossible_date.yaml": (4, "", "line 4, column 14: cannot read '2024-13-45' as timestamp: month must be in 1..12", 2),
    "json_wrong_type.json": (2, "/methods/0/hparams/clamp_norm_factor", "'big' is not of type 'number'", 1),
    "layers_float.yaml": (4, "/hparams/MEMIT/layers/0", "1.0: write a whole number without a decimal point (1)", 1),
    "layers_not_ascending.yaml": (5, "/methods/0/hparams", "ascending", 1),
    "malformed_yaml.yaml": (4, "", "malformed YAML/JSON at line 4, column 28", 2),
    "missing_dataset_file.yaml": (2, "/dataset/file", "no_such_data.jsonl does not exist", 1),
    "mixed_zero_singles.yaml": (6, "/dataset/wikidata/subjects/singles", "0 is less than the minimum of 1", 1),
    "nested_too_deep.yaml": (4, "/description" + "/0" * 64, "nested more than 64 levels deep (MAX_SPEC_DEPTH)", 2),
    "not_utf8.yaml": (3, "", "not UTF-8 text: byte 0xe9 at line 3, column 17", 2),
    "nul_byte.yaml": (4, "", "control character U+0000 (NUL) at line 4, column 16", 2),
    "published_figure_not_a_number.yaml": (7, "/report/reference/0/figures/MEMIT/same_subject/efficacy", "'high' is not of type 'number'", 1),
    "recursive_alias.yaml": (3, "/methods/1", "an alias refers to a node that contains it", 2),
    "relation_not_a_pid.yaml": (5, "/dataset/wikidata/relations/ids/1", "is not a Wikidata property id", 1),
    "repeated_batch_sizes.yaml": (7, "/batch_sizes/2", "2 is repeated (already item 0)", 1),
    "repeated_metrics.yaml": (4, "/metrics/2", "'efficacy' is repeated (already item 0)", 1),
    "repeated_report_formats.yaml": (4, "/report/formats/2", "'json' is repeated (already item 0)", 1),
    "repeated_seeds.yaml": (4, "/seeds/2", "0 is repeated (already item 0)", 1),
    "seed_float.yaml": (4, "/seeds/0", "1.0: write a whole number without a decimal point (1)", 1),
    "seed_not_integer.yaml": (4, "/seeds/1", "1.5 is not of type 'integer'", 1),
    "unknown_conflicts_policy.yaml": (4, "/dataset/conflicts", "'ignore' is not one of ['drop', 'error', 'keep_first', 'keep_last', 'warn']", 1),
    "unknown_method.yaml": (4, "/methods/0/name", "'ROME9' is not one of", 1),
    "unknown_row_format.yaml": (4, "/dataset/format", "'mquake' is not one of ['auto', 'counterfact', 'easyedit', 'kedit', 'zsre']", 1),
    "unknown_statistics_precision.yaml": (4, "/statistics/precision", "'float16' is not one of ['auto', 'float32', 'bfloat16']", 1),
    "unknown_top_level_key.yaml": (4, "/batch_size", "unknown key 'batch_size'", 1),
    "sweep_empty_list.yaml": (6, "/methods/0/sweep/mom2_update_weight", "a sweep of mom2_update_weight lists at least one value", 1),
    "sweep_key_also_in_hparams.yaml": (7, "/methods/0/hparams/L2", "'L2' is swept (sweep.L2) and fixed here too", 1),
    "sweep_label_taken.yaml": (8, "/methods/1/sweep", "two methods share the label 'MEMIT λ=15000' (methods[0] has it too); give the sweep or the other entry a 'label'", 1),
    "sweep_names_nothing.yaml": (5, "/methods/0/sweep", "a sweep names at least one hyper-parameter", 1),
    "sweep_point_refused_by_config.yaml": (6, "/methods/0/sweep/layers/1", "every sweep point with layers=[5,4] fails, e.g. 'MEMIT layers=[5,4] v_lr=0.5': layers must be a non-empty ascending list", 1),
    "sweep_repeated_value.yaml": (6, "/methods/0/sweep/v_lr/2", "0.5 is repeated (already item 0)", 1),
    "sweep_unknown_hparam.yaml": (6, "/methods/0/sweep/lambda", "unknown key 'lambda'; allowed here: clamp_norm_factor", 1),
    "sweep_value_written_twice.yaml": (6, "/methods/0/sweep/mom2_update_weight/2", "two points of this sweep share the label 'MEMIT λ=3500': 3500.0 is item 0 (3500) written another way", 1),
    "sweep_wrong_type.yaml": (7, "/methods/0/sweep/v_num_grad_steps/1", "40.0: write a whole number without a decimal point (40)", 1),
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


@contextmanager
def _deadline(seconds: int):
    """Fail, rather than hang, when validating one file takes longer than ``seconds``."""

    def expired(*_):
        raise TimeoutError(f"validation took over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_error_is_located_by_file_line_and_pointer(name):
    line, pointer, phrase, exit_code = EXPECTED[name]
    with _deadline(30):  # an alias bomb must be refused, not expanded
        res = _validate("--format", "json", str(BROKEN / name))
    assert res.exit_code == exit_code, res.output
    (result,) = json.loads(res.stdout)["files"]
    assert not result["valid"] and result["unreadable"] == (exit_code == 2)
    assert any(p["line"] == line and p["pointer"] == pointer and phrase in p["message"] for p in result["problems"]), result["problems"]


def test_text_output_names_file_and_line_and_a_folder_is_checked_whole():
    res = _validate(str(BROKEN))
    assert res.exit_code == 2  # one file is unreadable (malformed), which outranks invalid
    assert f"{BROKEN / 'seed_not_integer.yaml'}:4: /seeds/1:" in res.output
    assert f"{len(EXPECTED)} spec file(s): 0 valid" in res.output


def _good_spec(name: str) -> str:
    return f"name: {name}\ndataset: {{file: {ROOT / 'datasets/same_subject'}}}\nmethods: [{{name: MEMIT}}]\n"


def test_one_binary_file_leaves_the_rest_of_the_folder_checked(tmp_path):
    (tmp_path / "a_good.yaml").write_text(_good_spec("good"))
    (tmp_path / "b_nul.yaml").write_bytes(b"name: nul\x00\nmethods: [{name: MEMIT}]\n")
    (tmp_path / "c_invalid.yaml").write_text(_good_spec("invalid") + "seeds: [0, 1.5]\n")
    (tmp_path / "d_binary.json").write_bytes(bytes(range(256)))
    res = _validate("--format", "json", str(tmp_path))
    assert res.exit_code == 2, res.output
    files = {Path(f["file"]).name: f for f in json.loads(res.stdout)["files"]}
    assert sorted(files) == ["a_good.yaml", "b_nul.yaml", "c_invalid.yaml", "d_binary.json"]
    assert files["a_good.yaml"]["valid"]
    assert files["b_nul.yaml"]["unreadable"] and "U+0000 (NUL) at line 1, column 10" in files["b_nul.yaml"]["problems"][0]["message"]
    assert not files["c_invalid.yaml"]["unreadable"] and files["c_invalid.yaml"]["problems"][0]["pointer"] == "/seeds/1"
    assert files["d_binary.json"]["unreadable"] and "not UTF-8 text: byte 0x80 at line 2" in files["d_binary.json"]["problems"][0]["message"]


def test_each_file_of_a_folder_is_parsed_once(tmp_path, monkeypatch):
    """A preset included by two specs is read once; nothing is parsed a second time."""
    from kedit.spec import document

    parsed = []
    compose = document._Loader.get_single_node
    monkeypatch.setattr(document._Loader, "get_single_node", lambda self: parsed.append(1) or compose(self))
    (tmp_path / "preset.yaml").write_text("hparams:\n  MEMIT: {v_lr: 0.7}\n")
    for name in ("one", "two"):
        (tmp_path / f"{name}.yaml").write_text("include: preset.yaml\n" + _good_spec(name))
    res = _validate(str(tmp_path))
    assert res.exit_code == 0 and "2 spec file(s): 2 valid" in res.output, res.output
    assert len(parsed) == 3


def test_a_file_over_the_size_bound_is_refused_naming_the_bound(tmp_path, monkeypatch):
    from kedit.spec import document

    monkeypatch.setattr(document, "MAX_SPEC_BYTES", 64)
    (tmp_path / "big.yaml").write_text(_good_spec("big") + "description: " + "x" * 100 + "\n")
    res = _validate(str(tmp_path / "big.yaml"))
    assert res.exit_code == 2 and "a spec may have at most 64 (MAX_SPEC_BYTES)" in res.output, res.output


def test_anchors_aliases_and_merge_keys_still_work(tmp_path):
    """Legitimate YAML reuse is neither a duplicate key nor an alias bomb."""
    from kedit.spec import load_spec

    (tmp_path / "spec.yaml").write_text(
        _good_spec("anchors").replace("methods: [{name: MEMIT}]\n", "")
        + "hparams:\n  MEMIT: &memit {v_lr: 0.7, layers: [1, 2]}\n  MEMIT-Merge:\n    <<: *memit\n    v_lr: 0.9\n"
        + "methods: [{name: MEMIT}, {name: MEMIT-Merge}]\n"
    )
    memit, merge = load_spec(tmp_path / "spec.yaml").methods
    assert (memit.config.v_lr, merge.config.v_lr, merge.config.layers) == (0.7, 0.9, [1, 2])


def test_run_refuses_what_validate_refuses_before_any_work(tmp_path):
    """A whole-number float or a duplicate key never reaches the run (exit 2, located)."""
    for name, where in [("batch_size_float.yaml", ":4: /batch_sizes/1:"), ("duplicate_top_level_key.yaml", ":5: /methods:")]:
        res = CliRunner().invoke(main, ["run", str(BROKEN / name), "--out", str(tmp_path / "out")])
        assert res.exit_code == 2 and f"{BROKEN / name}{where}" in res.output, res.output
        assert not (tmp_path / "out").exists()


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


@pytest.mark.parametrize("fragment", sorted((ROOT / "specs" / "presets").glob("*.yaml")), ids=lambda p: p.name)
def test_a_shipped_fragment_named_alone_validates_as_a_fragment(fragment):
    """pre-commit passes file names: a fragment must pass without the specs that include it."""
    res = _validate("--format", "json", str(fragment))
    assert res.exit_code == 0, res.output
    (result,) = json.loads(res.stdout)["files"]
    assert result["valid"] and result["fragment"]


def test_the_fragment_marker_is_dropped_when_included(tmp_path):
    from kedit.spec.load import read_spec

    (tmp_path / "shared.yaml").write_text("fragment: true\nhparams:\n  MEMIT: {v_lr: 0.7}\n")
    (tmp_path / "spec.yaml").write_text("include: shared.yaml\n" + _good_spec("inc"))
    data, lines = read_spec(tmp_path / "spec.yaml")
    assert "fragment" not in data and "/fragment" not in lines and data["hparams"] == {"MEMIT": {"v_lr": 0.7}}
    res = _validate("--format", "json", str(tmp_path))  # the folder: the spec, and the marked fragment on its own
    assert res.exit_code == 0, res.output
    assert {Path(f["file"]).name: f["fragment"] for f in json.loads(res.stdout)["files"]} == {"shared.yaml": True, "spec.yaml": False}


def test_a_marked_fragment_in_a_folder_is_checked_on_its_own(tmp_path):
    """It gets a verdict of its own, as when pre-commit names it; an unmarked one is checked only
    through the specs that include it (as before the marker)."""
    (tmp_path / "shared.yaml").write_text("fragment: true\nseeds: [0]\nbatch_size: [4]\n")
    (tmp_path / "old.yaml").write_text("seeds: [0]\n")
    (tmp_path / "spec.yaml").write_text("include: [shared.yaml, old.yaml]\n" + _good_spec("inc"))
    res = _validate("--format", "json", str(tmp_path))
    assert res.exit_code == 1, res.output
    files = {Path(f["file"]).name: f for f in json.loads(res.stdout)["files"]}
    assert sorted(files) == ["shared.yaml", "spec.yaml"]
    (problem,) = files["shared.yaml"]["problems"]
    assert (Path(problem["file"]).name, problem["line"], problem["pointer"]) == ("shared.yaml", 3, "/batch_size")


def test_running_a_fragment_is_refused_naming_the_marker(tmp_path):
    res = CliRunner().invoke(main, ["run", str(ROOT / "specs/presets/same_subject_data.yaml"), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "/fragment: this file is a fragment" in res.output, res.output
    assert not (tmp_path / "out").exists()


def test_a_spec_whose_includes_give_no_methods_still_needs_them(tmp_path):
    """The schema asks nothing of a file with ``include`` (an editor sees it unmerged); kedit
    checks the merged spec, which must have methods and a dataset."""
    (tmp_path / "shared.yaml").write_text("fragment: true\nseeds: [0]\n")
    (tmp_path / "spec.yaml").write_text("include: shared.yaml\nname: x\n")
    res = _validate("--format", "json", str(tmp_path / "spec.yaml"))
    assert res.exit_code == 1, res.output
    messages = [p["message"] for p in json.loads(res.stdout)["files"][0]["problems"]]
    assert any(m.startswith("'methods' is a required property") for m in messages) and any("'dataset' is a required property" in m for m in messages)
