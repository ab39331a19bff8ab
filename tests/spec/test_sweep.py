"""kedit.spec.sweep and kedit.spec.methods: a method entry's ``sweep`` expands into one run per
combination, in order, each labelled readably and recording its entry and point; the runs'
configs are the entry's hparams overridden by the point; a combination its config refuses is
named and located. (Each bad input's located message is in tests/spec/test_validate.py's catalogue.)"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from kedit.cli import main
from kedit.spec import SpecError, load_spec
from kedit.spec.schema import load_schema
from kedit.spec.sweep import value_text

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "datasets" / "same_subject"


def _spec(tmp_path, methods: list[dict], **extra) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({"name": "sweep", "dataset": {"file": str(DATA)}, "methods": methods, **extra}, sort_keys=False, allow_unicode=True))
    return path


def test_a_sweep_expands_in_order_the_first_name_varying_slowest(tmp_path):
    spec = load_spec(_spec(tmp_path, [
        {"name": "MEMIT", "hparams": {"v_num_grad_steps": 7}, "sweep": {"layers": [[3, 4, 5, 6, 7, 8], [4, 6]], "v_lr": [0.5, 1.0, 2]}},
        {"name": "MEMIT", "label": "MEMIT (EasyEdit defaults)", "hparams": {"mom2_update_weight": 15000}},
        {"name": "AlphaEdit", "label": "AE", "sweep": {"L2": [1, 100.0]}},
    ]))
    assert [m.label for m in spec.methods] == [
        "MEMIT layers=[3..8] v_lr=0.5", "MEMIT layers=[3..8] v_lr=1", "MEMIT layers=[3..8] v_lr=2",
        "MEMIT layers=[4,6] v_lr=0.5", "MEMIT layers=[4,6] v_lr=1", "MEMIT layers=[4,6] v_lr=2",
        "MEMIT (EasyEdit defaults)", "AE λ=1", "AE λ=100",
    ]
    assert [(m.config.layers, m.config.v_lr, m.config.v_num_grad_steps) for m in spec.methods[:6]] == [
        (layers, lr, 7) for layers in ([3, 4, 5, 6, 7, 8], [4, 6]) for lr in (0.5, 1.0, 2)]
    assert [m.entry for m in spec.methods] == [0] * 6 + [1, 2, 2]
    assert [m.sweep.index for m in spec.methods if m.entry == 0] == list(range(6)) and spec.methods[6].sweep is None
    assert [m.config.L2 for m in spec.methods[7:]] == [1, 100.0]


def test_the_resolved_spec_records_each_runs_entry_and_point(tmp_path):
    spec = load_spec(_spec(tmp_path, [{"name": "MEMIT"}, {"name": "MEMIT", "label": "lr", "sweep": {"v_lr": [0.5, 1.0]}}]))
    methods = spec.resolved()["methods"]
    assert "sweep" not in methods[0]  # a run that is no sweep's is recorded as before
    assert methods[2]["sweep"] == {"entry": 1, "curve": "lr", "index": 1, "values": {"v_lr": 1.0}, "text": "v_lr=1"}
    assert methods[2]["label"] == "lr v_lr=1" and methods[2]["hparams"]["v_lr"] == 1.0


def test_the_spec_level_hparams_and_the_models_presets_sit_under_the_sweep(tmp_path):
    spec = load_spec(_spec(tmp_path, [{"name": "MEMIT", "sweep": {"mom2_update_weight": [10, 20]}}],
                           model={"name": "smollm2-135m"}, hparams={"MEMIT": {"v_lr": 0.7}}))
    assert [(m.config.mom2_update_weight, m.config.v_lr, m.config.v_num_grad_steps) for m in spec.methods] == [(10, 0.7, 40), (20, 0.7, 40)]


@pytest.mark.parametrize(("value", "text"), [
    (3500, "3500"), (15000.0, "15000"), (0.001, "0.001"), (1e-05, "1e-05"), (2.5e16, "2.5e+16"), (True, "true"), (None, "null"),
    ([4, 5, 6, 7, 8], "[4..8]"), ([4, 5], "[4,5]"), ([8, 12, 16], "[8,12,16]"), ("subject", "subject"), ("{} is a", '"{} is a"'),
])
def test_a_swept_value_reads_compactly_in_a_label(value, text):
    assert value_text(value) == text


def _problems(path: Path) -> list[tuple[str, int | None, str]]:
    with pytest.raises(SpecError) as err:
        load_spec(path)
    return [(p.pointer, p.line, p.message) for p in err.value.problems]


def test_a_combination_that_fails_only_with_another_swept_value_is_named_at_the_sweep(tmp_path):
    """layers [6, 7] is fine with v_loss_layer 7 and v_loss_layer 5 with layers [4, 5]: only their combination is refused."""
    problems = _problems(_spec(tmp_path, [{"name": "MEMIT", "sweep": {"layers": [[4, 5], [6, 7]], "v_loss_layer": [5, 7]}}]))
    assert problems == [("/methods/0/sweep", 6, "sweep point 'MEMIT layers=[6,7] v_loss_layer=5': v_loss_layer 5 is below the last edited layer 7")]


def test_each_bad_value_of_a_sweep_is_its_own_located_problem(tmp_path):
    problems = _problems(ROOT / "tests/spec/broken/sweep_wrong_type.yaml")
    assert [(p, line) for p, line, _ in problems] == [("/methods/0/sweep/v_lr/1", 6), ("/methods/0/sweep/v_num_grad_steps/1", 7)]
    assert problems[0][2] == "'fast' is not of type 'number'"


def test_a_point_the_base_hparams_break_names_the_point(tmp_path):
    problems = _problems(_spec(tmp_path, [{"name": "MEMIT", "hparams": {"v_loss_layer": 6}, "sweep": {"layers": [[4, 5], [6, 7]]}}]))
    assert problems == [("/methods/0/sweep/layers/1", 12, "sweep point 'MEMIT layers=[6,7]': v_loss_layer 6 is below the last edited layer 7")]


def test_an_editor_accepts_a_sweep_and_refuses_a_bad_value_through_the_schema(tmp_path):
    validator = jsonschema.Draft202012Validator(load_schema())
    good = {"name": "x", "dataset": {"file": "d"}, "methods": [{"name": "AlphaEdit", "label": "AE", "hparams": {"v_lr": 1.0}, "sweep": {"L2": [1, 10]}}]}
    assert list(validator.iter_errors(good)) == []
    good["methods"][0]["sweep"]["L2"].append(-1)  # AlphaEdit's L2 is > 0, as in hparams
    assert [list(e.absolute_path) for e in validator.iter_errors(good)] == [["methods", 0, "sweep", "L2", 2]]


def test_run_refuses_a_bad_sweep_before_any_work(tmp_path):
    res = CliRunner().invoke(main, ["run", str(ROOT / "tests/spec/broken/sweep_key_also_in_hparams.yaml"), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "sweep_key_also_in_hparams.yaml:7: /methods/0/hparams/L2: 'L2' is swept" in res.output, res.output
    assert not (tmp_path / "out").exists()


def test_validate_reports_every_problem_of_a_sweep_spec_as_json(tmp_path):
    res = CliRunner().invoke(main, ["validate", "--format", "json", str(ROOT / "tests/spec/broken/sweep_point_refused_by_config.yaml")])
    assert res.exit_code == 1
    (result,) = json.loads(res.stdout)["files"]
    assert [p["pointer"] for p in result["problems"]] == ["/methods/0/sweep/layers/1"]
