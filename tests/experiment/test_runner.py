"""``kedit run`` end to end on a tiny model: report files, provenance, resume, re-render, diff."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from kedit.cli import main
from kedit.spec.schema import REPORT_SCHEMA_FILE, load_schema


def _run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_run_writes_a_versioned_report_with_provenance(project):
    spec = yaml.safe_load(project.read_text())
    spec["report"]["reference"] = [{"source": "a paper, Table 1", "setting": "a bigger model", "figures": {"MEMIT-Merge": {"dataset": {"efficacy": 0.55}}}}]
    project.write_text(yaml.safe_dump(spec))
    res = _run(["run", str(project)])
    assert res.exit_code == 0, res.output
    (where,) = (project.parent / "reports").iterdir()
    assert where.name.startswith("tiny-")
    report = json.loads((where / "report.json").read_text())
    jsonschema.validate(report, load_schema(REPORT_SCHEMA_FILE))
    assert len(report["cells"]) == 2 * (1 + 1)  # methods x batch sizes (one batch each)
    assert {c["batch_size"] for c in report["cells"]} == {2, 4}
    assert report["datasets"]["dataset"]["rows"] == 4
    assert report["model"]["fingerprint"] and report["environment"]["libraries"]["torch"]
    assert report["spec"]["methods"][0]["hparams"]["v_lr"] == 0.5  # defaults are resolved
    # the two methods of a batch got their values from one joint optimisation, each charged its share
    assert all(c["info"]["values_ahead_s"] == c["info"]["values_s"] > 0 for c in report["cells"])
    md = (where / "report.md").read_text()
    assert "| MEMIT |" in md and "| MEMIT-Merge |" in md and "Provenance" in md
    assert "| (unedited model) |" in md
    assert md.startswith("# kedit report: tiny\n\nModel: ")  # no description: no empty paragraph
    assert "| dataset | MEMIT | 4 | 4 | 4.0 |" in md and "| dataset | MEMIT-Merge | 4 | 1 | 4.0 |" in md  # target values: groups, steps
    for c in report["cells"]:
        assert 0.0 <= c["metrics"]["efficacy_before"] <= 1.0 and c["metrics"]["paraphrase_before"] is not None
    assert "Published figures: a bigger model (a paper, Table 1)" in md and "| MEMIT-Merge | 0.550 | – |" in md
    assert (where / "efficacy_vs_batch_size.png").stat().st_size > 1000
    assert (where / "akd_vs_efficacy.png").exists()
    # Every cell keeps its per-edit scores in row order; every table value has n and an interval (or says why not)
    assert report["report_format"] == 2 and report["intervals"]["resamples"] == 2000
    assert report["model"]["description"] == f"the saved model folder {report['model']['name']}"
    for c in report["cells"]:
        assert all(len(scores) == len(c["rows"]) for scores in c["per_edit"].values())
        assert c["per_edit"]["efficacy"] and sum(c["per_edit"]["efficacy"]) / len(c["rows"]) == c["metrics"]["efficacy"]
        assert c["per_edit_weights"]["specificity"] == [1] * len(c["rows"])  # one neighbourhood prompt per row
    for row in report["summary"]:
        assert row["n"]["efficacy"] == row["batch_size"] and row["n"]["akd"] == row["batch_size"] and row["interval"]["akd"] is None
        low, high = row["interval"]["efficacy"]
        assert low <= row["metrics"]["efficacy"] <= high
    assert report["legend"]["metrics"]["akd_collisions"]["count"] and report["legend"]["methods"]["MEMIT-Merge"]
    assert "| Method | dataset n | dataset Eff. |" in md and "- [low, high]: the 95% percentile bootstrap interval over edits" in md
    # Same-subject rows: every key is the same, so AKD is 0 and all pairs collide.
    for c in report["cells"]:
        # measured 0.0 (bit-identical keys) on every tiny architecture; distinct subjects on this
        # tiny llama are 0.048 apart, so 1e-4 admits only float32 rounding
        assert c["metrics"]["akd"] < 1e-4
        assert c["metrics"]["akd_collisions"] == c["batch_size"] * (c["batch_size"] - 1) // 2


def test_a_changed_spec_gets_a_new_report_and_reuses_no_cell(project):
    assert _run(["run", str(project)]).exit_code == 0
    spec = yaml.safe_load(project.read_text())
    spec["hparams"]["MEMIT"]["v_lr"] = 0.4
    project.write_text(yaml.safe_dump(spec))
    res = _run(["run", str(project)])
    assert res.exit_code == 0 and "resuming" not in res.output
    assert len(list((project.parent / "reports").iterdir())) == 2


def test_a_changed_kedit_reuses_no_cell(project, monkeypatch):
    """Same spec, same version number, other code (an edited checkout): every cell is recomputed."""
    import kedit.experiment.runner

    assert _run(["run", str(project)]).exit_code == 0
    monkeypatch.setattr(kedit.experiment.runner, "code_fingerprint", lambda: "other code")
    res = _run(["run", str(project)])
    assert res.exit_code == 0 and "resuming" not in res.output
    (where,) = (project.parent / "reports").iterdir()
    assert len(list((where / "cells").glob("*.json"))) == 2 * 4


def test_auto_statistics_precision_is_resolved_recorded_and_part_of_every_cells_key(project, monkeypatch):
    """``auto`` becomes what it means on the model's device: the report's spec records that, and
    the same spec where ``auto`` means another precision (another machine) reuses no cell."""
    import torch

    spec = yaml.safe_load(project.read_text())
    spec["statistics"]["precision"] = "auto"
    project.write_text(yaml.safe_dump(spec))
    runs = {}
    for capabilities, expected in (({}, "float32"), ({"avx512_bf16": True}, "bfloat16")):
        monkeypatch.setattr(torch.cpu, "get_capabilities", lambda caps=capabilities: caps)
        res = _run(["run", str(project)])
        assert res.exit_code == 0 and "resuming" not in res.output, res.output
        (where,) = (project.parent / "reports").iterdir()  # the spec as written is the same: one report folder
        runs[expected] = json.loads((where / "report.json").read_text())
        assert runs[expected]["spec"]["statistics"]["precision"] == expected
    assert len(list((where / "cells").glob("*.json"))) == 2 * 2 * 2, "each precision's cells, none reused"
    assert {c["key"] for c in runs["float32"]["cells"]}.isdisjoint(c["key"] for c in runs["bfloat16"]["cells"])
    cached = [torch.load(f, weights_only=True)["key"] for f in (project.parent / "cache" / "stats").rglob("model.*.pt")]
    assert sorted(k.get("precision", "float32") for k in cached) == ["bfloat16"] * 2 + ["float32"] * 2  # layers 1 and 2


def test_report_rerenders_and_diff_compares(project):
    assert _run(["run", str(project)]).exit_code == 0
    (where,) = (project.parent / "reports").iterdir()
    (where / "report.md").unlink()
    assert _run(["report", str(where)]).exit_code == 0
    assert (where / "report.md").exists()
    res = _run(["diff", str(where), str(where)])
    assert res.exit_code == 0 and "0 regression(s)" in res.output
    worse = json.loads((where / "report.json").read_text())
    worse["cells"][0]["metrics"]["efficacy"] -= 0.5
    other = project.parent / "worse.json"
    other.write_text(json.dumps(worse))
    res = CliRunner().invoke(main, ["diff", str(where), str(other), "--fail-on-regression"])
    assert res.exit_code == 1 and "worse" in res.output


def test_an_interrupted_run_resumes_without_recomputing_finished_cells(project):
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "kedit.cli", "run", str(project)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    reports = project.parent / "reports"
    deadline = time.time() + 300
    first = []
    while time.time() < deadline and not first:
        first = list(reports.glob("*/cells/*.json"))
        time.sleep(0.05)
    assert first, "no cell finished in time"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in reports.glob("*/cells/*.json")}
    assert 1 <= len(finished) < 4
    res = _run(["run", str(project)])
    assert res.exit_code == 0, res.output
    assert f"{len(finished)} of 4 cells already finished" in res.output
    after = {p.name: p.stat().st_mtime_ns for p in reports.glob("*/cells/*.json")}
    assert len(after) == 4
    assert all(after[name] == mtime for name, mtime in finished.items()), "a finished cell was recomputed"
    (where,) = reports.iterdir()
    assert json.loads((where / "report.json").read_text())["timings"]["resumed_cells"] == len(finished)


def test_cell_files_of_no_cell_of_the_run_are_named_and_kept(project):
    """A report directory reused by another spec or kedit version holds cell files this run
    does not report: the run says so and deletes nothing."""
    assert _run(["run", str(project)]).exit_code == 0
    (cells,) = (project.parent / "reports").glob("*/cells")
    stray = cells / "0123456789abcdef01234567.json"
    stray.write_text("{}")
    res = _run(["run", str(project)])
    assert res.exit_code == 0, res.output
    assert f"1 cell file(s) in {cells} belong to no cell of this run" in res.output and stray.name in res.output
    assert stray.exists() and len(list(cells.glob("*.json"))) == 5
    assert len(json.loads((cells.parent / "report.json").read_text())["cells"]) == 4


def _edit_spec(project, **changes):
    spec = yaml.safe_load(project.read_text())
    spec.update(changes)
    project.write_text(yaml.safe_dump(spec))


def _run_fails(args, *phrases):
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    for phrase in phrases:
        assert phrase in res.output, res.output
    return res


def test_a_batch_larger_than_the_dataset_is_refused_before_any_work(project):
    _edit_spec(project, batch_sizes=[2, 5])
    _run_fails(["run", str(project)], "batch size 5 need 5 rows but dataset 'dataset' has 4")
    assert not list((project.parent / "reports").glob("*/cells/*"))


def test_a_device_the_machine_lacks_is_refused_before_any_work(project):
    spec = yaml.safe_load(project.read_text())
    spec["model"]["device"] = "cuda:99"
    project.write_text(yaml.safe_dump(spec))
    _run_fails(["run", str(project)], "model.device: device 'cuda:99'")
    assert not (project.parent / "reports").exists()


def test_a_layer_offloaded_to_disk_is_named_and_the_finished_cells_are_kept(project):
    """max_memory leaves blocks 2-3 of the tiny llama on disk: MEMIT on layers 0-1 runs,
    MEMIT-Merge on layers 1-2 is refused with the module named."""
    spec = yaml.safe_load(project.read_text())
    spec["model"] |= {"device_map": "auto", "max_memory": {"cpu": "200KB"}, "offload_folder": str(project.parent / "offload")}
    spec["hparams"]["MEMIT"]["layers"] = [0, 1]
    spec["batch_sizes"] = [4]
    project.write_text(yaml.safe_dump(spec))
    _run_fails(["run", str(project)], "MEMIT-Merge: model.layers.2.mlp.down_proj.weight is offloaded to disk")
    (cell,) = [json.loads(p.read_text()) for p in (project.parent / "reports").glob("*/cells/*.json")]
    assert cell["method"] == "MEMIT"


def test_more_preserved_names_than_the_list_holds_is_named_and_the_finished_cells_are_kept(project):
    spec = yaml.safe_load(project.read_text())
    spec["hparams"]["MEMIT-Merge"] |= {"preserve_subjects": 100000}
    spec["batch_sizes"] = [4]
    project.write_text(yaml.safe_dump(spec))
    _run_fails(["run", str(project)], "MEMIT-Merge: preserve_subjects: 100000 names asked for", "set a smaller preserve_subjects")
    (cell,) = [json.loads(p.read_text()) for p in (project.parent / "reports").glob("*/cells/*.json")]
    assert cell["method"] == "MEMIT"


def test_corpus_prefixes_from_a_corpus_too_short_for_them_are_named_and_the_finished_cells_are_kept(project):
    spec = yaml.safe_load(project.read_text())
    short = project.parent / "short.txt"
    short.write_text("\n\n".join(["one paragraph of corpus text for the moments"] * 3))
    spec["statistics"]["corpus"] = [str(short)]
    spec["hparams"]["MEMIT-Merge"] |= {"context_source": "corpus"}
    spec["batch_sizes"] = [4]
    project.write_text(yaml.safe_dump(spec))
    _run_fails(["run", str(project)], "MEMIT-Merge: the corpus holds 3 paragraphs; 5 context prefixes need as many (context_source: corpus)")
    (cell,) = [json.loads(p.read_text()) for p in (project.parent / "reports").glob("*/cells/*.json")]
    assert cell["method"] == "MEMIT"


def test_a_model_that_overflows_in_its_dtype_is_named_as_an_error_of_the_cell(project, tokenizer):
    """float16 weights whose block-0 MLP output exceeds float16's range (as Gemma 3's does on
    real prompts): kedit run stops with the dtype named (here at the statistics pass, which comes
    first), not with NaN written into the model."""
    import torch

    from tests.tiny import make_tiny

    tiny = make_tiny("llama", tokenizer, dtype=torch.float16)
    with torch.no_grad():
        for name in ("gate_proj", "up_proj", "down_proj"):
            tiny.model.get_submodule(f"model.layers.0.mlp.{name}").weight.fill_(1e3)
    tiny.model.save_pretrained(project.parent / "hot-model")
    tokenizer.save_pretrained(project.parent / "hot-model")
    spec = yaml.safe_load(project.read_text())
    spec["model"] = {"name": str(project.parent / "hot-model"), "dtype": "float16"}
    # the pass in the model's dtype: `auto` picks bfloat16 autocast on a CPU with AVX512-BF16,
    # where nothing overflows before the values do (also a named error, another test's)
    spec["statistics"] = spec.get("statistics", {}) | {"precision": "float32"}
    project.write_text(yaml.safe_dump(spec))
    _run_fails(["run", str(project)], "second-moment statistics: the second moments of model.layers.1.mlp.down_proj",
               "are not finite in float16 (the model overflows in that dtype)")


def test_a_layer_outside_the_model_is_refused(project):
    spec = yaml.safe_load(project.read_text())
    spec["methods"][0]["hparams"] = {"layers": [1, 9]}
    project.write_text(yaml.safe_dump(spec))
    _run_fails(["run", str(project)], "methods[0] (MEMIT): layer 9 is outside the model, which has layers 0..3")


def test_an_unwritable_output_directory_is_refused(project):
    blocker = project.parent / "a-file"
    blocker.write_text("")
    _run_fails(["run", str(project), "--out", str(blocker / "report")], "is not writable")


def test_a_missing_dataset_file_is_named(project):
    (project.parent / "data.jsonl").unlink()
    _run_fails(["run", str(project)], "/dataset/file", "data.jsonl does not exist")


def test_a_malformed_spec_is_located(project):
    project.write_text("name: x\nmethods: [\n")
    _run_fails(["run", str(project)], f"{project}:", "malformed YAML/JSON")


def test_a_request_whose_prompt_lacks_its_subject_is_named_with_its_index(project):
    rows = [json.loads(line) for line in (project.parent / "data.jsonl").read_text().splitlines()]
    rows[2]["prompt"] = "Her mother tongue is"
    (project.parent / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    _run_fails(["run", str(project)], "data.jsonl:3 (row 2): prompt 'Her mother tongue is' contains neither")


@pytest.mark.parametrize("content, phrase", [
    (b"", "data.jsonl: empty file: no rows"),
    (b'{"subject": oops}\n', "data.jsonl:1:13: not JSON: Expecting value"),
    (bytes(range(256)), "data.jsonl: binary data (a NUL byte at line 1), not text"),
    ("".join(json.dumps(r) + "\n" for r in [{"subject": "S", "prompt": "{} is", "target_new": ""}] * 3).encode(),
     "3 bad requests:\n  /"),
])
def test_a_malformed_dataset_file_exits_2_naming_the_file_and_line(project, content, phrase):
    (project.parent / "data.jsonl").write_bytes(content)
    res = _run_fails(["run", str(project)], "dataset 'dataset': ", phrase)
    assert "Traceback" not in res.output and "internal error" not in res.output


def test_contradictory_and_duplicate_edits_are_refused_by_default_and_recorded_under_a_policy(project, caplog):
    rows = [json.loads(line) for line in (project.parent / "data.jsonl").read_text().splitlines()]
    rows += [{**rows[0], "target_new": "Paris"}, dict(rows[1])]  # row 4 contradicts row 0, row 5 repeats row 1
    (project.parent / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = _run_fails(["run", str(project)], "dataset 'dataset': 2 groups of contradictory or duplicate edits:\n",
                     "data.jsonl:1 (row 0): subject 'John Smith', prompt \"John Smith's birthplace is\": rows 0, 4 teach contradictory new targets 'Tokyo', 'Paris'",
                     "rows 1, 5 teach the same new target 'Google' 2 times", "set dataset.conflicts to drop | keep_first | keep_last | warn")
    assert "Traceback" not in res.output
    _edit_spec(project, dataset={"file": "data.jsonl", "conflicts": "keep_first"}, batch_sizes=[4], methods=[{"name": "MEMIT-Merge"}], metrics=["efficacy"])
    res = _run(["run", str(project)])
    assert res.exit_code == 0, res.output
    assert "1 group(s) of contradictory edits and 1 of duplicates; conflicts: keep_first" in caplog.text  # on the console
    (where,) = (p.parent for p in (project.parent / "reports").glob("*/report.json"))
    report = json.loads((where / "report.json").read_text())
    assert report["datasets"]["dataset"]["rows"] == 4
    assert report["datasets"]["dataset"]["provenance"]["conflicts"] == {
        "policy": "keep_first", "contradictory": [[0, 4]], "duplicates": [[1, 5]], "dropped_rows": [4, 5]}
    md = (where / "report.md").read_text()
    assert "## Contradictory and duplicate edits\n\n- dataset (conflicts: keep_first): 1 group(s) of contradictory edits, 1 of duplicates; 2 row(s) dropped\n" in md
    assert "  - contradictory, rows: 0, 4\n  - duplicates, rows: 1, 5\n  - dropped rows: 4; 5\n" in md


def test_a_counterfact_file_runs_and_its_format_is_recorded(project):
    from tests.data.records import COUNTERFACT

    rows = [json.loads(line) for line in (project.parent / "data.jsonl").read_text().splitlines()]
    records = [
        {**COUNTERFACT, "case_id": i, "requested_rewrite": {**COUNTERFACT["requested_rewrite"], "relation_id": f"P{100 + i}", "prompt": r["prompt"], "subject": r["subject"], "target_new": {"str": r["target_new"]}},
         "neighborhood_prompts": [n["prompt"] for n in r["neighborhood_prompts"]]}
        for i, r in enumerate(rows)
    ]
    (project.parent / "counterfact.json").write_text(json.dumps(records))
    _edit_spec(project, dataset={"file": "counterfact.json", "limit": 3}, batch_sizes=[3], metrics=["efficacy", "specificity", "efficacy_prob", "efficacy_exact"])
    res = _run(["run", str(project)])
    assert res.exit_code == 0, res.output
    (where,) = (project.parent / "reports").iterdir()
    report = json.loads((where / "report.json").read_text())
    assert report["datasets"]["dataset"]["rows"] == 3
    assert report["datasets"]["dataset"]["provenance"]["format"] == "counterfact"
    cell = report["cells"][0]
    assert 0.0 <= cell["metrics"]["efficacy_prob"] <= 1.0  # target_true came through
    md = (where / "report.md").read_text()
    assert "| Method | dataset n | dataset Eff. | dataset Exact | dataset Spec. |" in md
    low, high = report["summary"][0]["interval"]["efficacy_before"]
    assert f"| (unedited model) | 3 | {cell['metrics']['efficacy_before']:.3f} [{low:.3f}, {high:.3f}] | {cell['metrics']['efficacy_exact_before']:.3f}" in md
    records[1]["requested_rewrite"].pop("subject")
    (project.parent / "counterfact.json").write_text(json.dumps(records))
    _run_fails(["run", str(project)], "dataset 'dataset': ", "counterfact.json row 1 (counterfact format): missing field 'requested_rewrite.subject'")


def test_a_sequential_run_streams_batches_and_reports_every_step(project):
    _edit_spec(project, sequential=True, batch_sizes=[2], batches_per_size=2)
    res = _run(["run", str(project)])
    assert res.exit_code == 0, res.output
    (where,) = (project.parent / "reports").iterdir()
    report = json.loads((where / "report.json").read_text())
    assert len(report["cells"]) == 2  # one stream per method
    for cell in report["cells"]:
        assert [s["step"] for s in cell["steps"]] == [0, 1]
        assert len(cell["batches"]) == 2 and not set(cell["batches"][0]) & set(cell["batches"][1])
        assert "first_batch_efficacy" in cell["metrics"]
    assert (where / "sequential_retention.png").exists()


def test_a_run_optimises_each_group_of_facts_once_across_methods_and_batches(project, monkeypatch):
    """Batch 2 asks for {a}, {b} (MEMIT) and {a, b} (MEMIT-Merge); batch 4 again for {a} and {b},
    which keep their values, and for {c}, {d} and {a, b, c, d}: two joint runs of three groups."""
    from kedit.editing.values import VALUE_OPTIMISERS

    optimise, runs = VALUE_OPTIMISERS["batched"], []

    def counted(loaded, requests, groups, *args, **kwargs):
        runs.append(sorted(len(g) for g in groups))
        return optimise(loaded, requests, groups, *args, **kwargs)

    monkeypatch.setitem(VALUE_OPTIMISERS, "batched", counted)
    res = _run(["run", str(project)])
    assert res.exit_code == 0, res.output
    assert runs == [[1, 1, 2], [1, 1, 4]]
    (where,) = (project.parent / "reports").iterdir()
    cells = json.loads((where / "report.json").read_text())["cells"]
    assert all(c["info"]["values_s"] > 0 for c in cells)  # each paid its share of the groups new in its batch


def test_seeds_that_draw_the_same_batch_share_its_values_when_no_context_depends_on_the_seed(project, monkeypatch):
    """Without context prefixes (the seed draws them), seed 1's batch of all four rows asks for
    the values seed 0's already has: one joint run in all, and seed 1's cells are charged nothing."""
    from kedit.editing.values import VALUE_OPTIMISERS

    optimise, runs = VALUE_OPTIMISERS["batched"], []

    def counted(loaded, requests, groups, *args, **kwargs):
        runs.append(sorted(len(g) for g in groups))
        return optimise(loaded, requests, groups, *args, **kwargs)

    monkeypatch.setitem(VALUE_OPTIMISERS, "batched", counted)
    spec = yaml.safe_load(project.read_text())
    for hp in spec["hparams"].values():
        hp["context_tokens"] = 0
    spec |= {"seeds": [0, 1], "batch_sizes": [4]}
    project.write_text(yaml.safe_dump(spec))
    res = _run(["run", str(project)])
    assert res.exit_code == 0, res.output
    assert runs == [[1, 1, 1, 1, 4]]
    (where,) = (project.parent / "reports").iterdir()
    cells = json.loads((where / "report.json").read_text())["cells"]
    assert sorted((c["seed"], c["info"]["values_s"] > 0) for c in cells) == [(0, True), (0, True), (1, False), (1, False)]
    by_seed = {(c["seed"], c["method"]): c["metrics"] for c in cells}
    assert by_seed[(0, "MEMIT")] == by_seed[(1, "MEMIT")] and by_seed[(0, "MEMIT-Merge")] == by_seed[(1, "MEMIT-Merge")]


def test_a_file_named_cells_in_the_output_folder_is_named(project):
    out = project.parent / "out"
    out.mkdir()
    (out / "cells").write_text("my notes")
    _run_fails(["run", str(project), "--out", str(out)], f"{out / 'cells'} is a file, not a folder")
    assert (out / "cells").read_text() == "my notes"


def test_a_full_disk_is_named_the_finished_cells_kept_and_report_files_get_normal_modes(project, monkeypatch):
    """ENOSPC while writing the second cell: exit 2 naming that file, the first cell kept, and
    a rerun resumes from it; every file written then has the mode umask 022 gives (0644)."""
    import errno

    import kedit.util

    out, commit, written = project.parent / "out", kedit.util._commit, []

    def full_after_one_cell(tmp, path):
        if path.parent.name == "cells":
            if written:
                raise OSError(errno.ENOSPC, "No space left on device")
            written.append(path)
        commit(tmp, path)

    monkeypatch.setattr(kedit.util, "_commit", full_after_one_cell)
    res = _run_fails(["run", str(project), "--out", str(out)], f"cannot write {out / 'cells'}", ".json: No space left on device",
                     "the 1 finished cell(s) are kept")
    assert "Traceback" not in res.output and [p.name for p in (out / "cells").iterdir()] == [written[0].name]
    assert not (out / ".kedit-lock").exists(), "the lock is released"
    monkeypatch.setattr(kedit.util, "_commit", commit)
    old = os.umask(0o022)
    try:
        res = _run(["run", str(project), "--out", str(out)])
    finally:
        os.umask(old)
    assert res.exit_code == 0 and "1 of 4 cells already finished" in res.output
    modes = {p.relative_to(out).as_posix(): oct(p.stat().st_mode & 0o777) for p in out.rglob("*") if p.is_file()}
    assert {"report.json", "report.md", "efficacy_vs_batch_size.png"} <= set(modes) and len([m for m in modes if m.startswith("cells/")]) == 4
    assert set(modes.values()) == {"0o644"}, modes


def test_two_runs_on_one_report_directory_the_second_is_refused_and_a_dead_ones_lock_taken_over(project, caplog):
    import logging
    import socket

    out = project.parent / "out"
    out.mkdir()
    lock = out / ".kedit-lock"
    lock.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": "2026-12-02T00:00:00+00:00"}))
    _run_fails(["run", str(project), "--out", str(out)], f"report directory {out} is in use",
               f"kedit pid {os.getpid()} on {socket.gethostname()} (started 2026-12-02T00:00:00+00:00) holds its lock {lock}")
    assert not list((out / "cells").glob("*.json")), "nothing ran"
    gone = subprocess.Popen([sys.executable, "-c", ""])
    gone.wait()
    lock.write_text(json.dumps({"pid": gone.pid, "host": socket.gethostname(), "started": "2026-12-02T00:00:00+00:00"}))
    with caplog.at_level(logging.WARNING, logger="kedit.experiment.store"):
        res = _run(["run", str(project), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert f"taking over the lock {lock} of kedit pid {gone.pid}" in caplog.text and "no longer exists" in caplog.text
    assert not lock.exists()


def test_a_lambda_sweep_runs_end_to_end_with_its_values_optimised_once(project, monkeypatch):
    """MEMIT alone and swept over three λ (one of them MEMIT's own): λ does not enter value
    optimisation, so the batch's values are optimised in one run of its four groups and every
    point is charged an equal share; the run that repeats MEMIT's config is computed once and
    reported under both labels; report.json records each run's sweep point; tradeoff.png is drawn."""
    from kedit.editing.values import VALUE_OPTIMISERS

    optimise, runs = VALUE_OPTIMISERS["batched"], []

    def counted(loaded, requests, groups, *args, **kwargs):
        runs.append(sorted(len(g) for g in groups))
        return optimise(loaded, requests, groups, *args, **kwargs)

    monkeypatch.setitem(VALUE_OPTIMISERS, "batched", counted)
    _edit_spec(project, batch_sizes=[4], methods=[{"name": "MEMIT"}, {"name": "MEMIT", "sweep": {"mom2_update_weight": [1.0, 10.0, 1000.0]}}])
    res = _run(["run", str(project)])
    assert res.exit_code == 0, res.output
    assert runs == [[1, 1, 1, 1]]
    assert res.output.count("| MEMIT") == 3, res.output  # MEMIT λ=10 is MEMIT: one cell, not two
    (where,) = (project.parent / "reports").iterdir()
    report = json.loads((where / "report.json").read_text())
    jsonschema.validate(report, load_schema(REPORT_SCHEMA_FILE))
    labels = ["MEMIT", "MEMIT λ=1", "MEMIT λ=10", "MEMIT λ=1000"]
    assert [m["label"] for m in report["spec"]["methods"]] == labels and [c["label"] for c in report["cells"]] == labels
    assert [m.get("sweep", {}).get("index") for m in report["spec"]["methods"]] == [None, 0, 1, 2]
    assert {m["sweep"]["entry"] for m in report["spec"]["methods"][1:]} == {1}
    assert [c["hparams"]["mom2_update_weight"] for c in report["cells"]] == [10.0, 1.0, 10.0, 1000.0]
    cells = {c["label"]: c for c in report["cells"]}
    assert cells["MEMIT"]["key"] == cells["MEMIT λ=10"]["key"] and cells["MEMIT"]["metrics"] == cells["MEMIT λ=10"]["metrics"]
    shares = [cells[label]["info"]["values_s"] for label in labels[1:]]
    assert shares[0] > 0 and shares == [shares[0]] * 3 and all(cells[label]["info"]["values_ahead_s"] == shares[0] for label in labels[1:])
    assert cells["MEMIT λ=1"]["per_edit"] != cells["MEMIT λ=1000"]["per_edit"], "λ changes the edit"
    assert (where / "tradeoff.png").stat().st_size > 1000
    assert "![tradeoff.png](tradeoff.png)" in (where / "report.md").read_text()


def test_the_statistics_of_every_method_come_from_one_pass_before_the_first_batch(project, monkeypatch):
    """MEMIT reads layers 1-2, AlphaEdit 0-1, FT-L none: one pass over the corpus for layers 0-2
    (each method asking for its own would walk the corpus twice, the second time to the same depth)."""
    import kedit.methods.context as context

    compute, passes = context.second_moments, []

    def counted(loaded, corpus, layers, *args, **kwargs):
        passes.append(sorted(layers))
        return compute(loaded, corpus, layers, *args, **kwargs)

    monkeypatch.setattr(context, "second_moments", counted)
    _edit_spec(project, methods=[{"name": "MEMIT"}, {"name": "AlphaEdit"}, {"name": "FT-L"}], batch_sizes=[2],
               hparams={"MEMIT": {"layers": [1, 2], "v_num_grad_steps": 2, "context_tokens": 0},
                        "AlphaEdit": {"layers": [0, 1], "v_num_grad_steps": 2, "context_tokens": 0},
                        "FT-L": {"layers": [2], "num_steps": 2}})
    res = _run(["run", str(project)])
    assert res.exit_code == 0, res.output
    assert passes == [[0, 1, 2]]
    res = _run(["stats", "compute", str(project)])  # asks for the same layers (FT-L reads none)
    assert res.exit_code == 0 and re.findall(r"layer (\d+): ", res.output) == ["0", "1", "2"], res.output
    _edit_spec(project, methods=[{"name": "FT-L"}])
    res = _run(["stats", "compute", str(project)])
    assert res.exit_code == 2 and "none of its methods (FT-L) reads second-moment statistics; give --layers" in res.output, res.output
