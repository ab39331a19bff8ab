"""The statistics precision: what ``auto`` resolves to on which device, the spec's choices are
the registry's, and the bfloat16 pass gives moments close to the float32 one."""

from __future__ import annotations

import typing

import pytest
import torch

from kedit.spec.model import StatisticsSection
from kedit.stats.corpus import text_files
from kedit.stats.moments import second_moments
from kedit.stats.precision import AUTO, PRECISIONS, fast_bfloat16, resolve
from tests.tiny import SENTENCES

CPU = torch.device("cpu")


def test_the_specs_choices_are_auto_and_the_registrys_precisions():
    choices = typing.get_args(typing.get_type_hints(StatisticsSection)["precision"])
    assert set(choices) == {AUTO, *PRECISIONS}
    assert StatisticsSection().precision in choices


@pytest.mark.parametrize("name", sorted(PRECISIONS))
def test_a_named_precision_resolves_to_itself_on_any_device(name):
    for device in ("cpu", "cuda", "meta"):
        assert resolve(name, torch.device(device)).name == name


@pytest.mark.parametrize(
    ("capabilities", "expected"),
    [({"avx512_bf16": True, "amx_bf16": False}, "bfloat16"), ({"amx_bf16": True}, "bfloat16"), ({"avx512_f": True, "avx2": True}, "float32"), ({}, "float32")],
)
def test_auto_on_a_cpu_is_bfloat16_only_with_avx512_bf16_or_amx(monkeypatch, capabilities, expected):
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: capabilities)
    assert fast_bfloat16(CPU) == (expected == "bfloat16")
    assert resolve(AUTO, CPU).name == expected


def test_auto_is_float32_on_a_torch_without_the_cpu_probe(monkeypatch):
    monkeypatch.delattr(torch.cpu, "get_capabilities")
    assert resolve(AUTO, CPU).name == "float32"


def test_auto_on_cuda_follows_the_compute_capability_and_elsewhere_is_float32(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (8, 0))
    assert resolve(AUTO, torch.device("cuda")).name == "bfloat16"
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))
    assert resolve(AUTO, torch.device("cuda")).name == "float32"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve(AUTO, torch.device("cuda:1")).name == "float32"
    assert resolve(AUTO, torch.device("mps")).name == "float32"


def test_an_unknown_precision_is_a_key_error_naming_it():
    with pytest.raises(KeyError, match="float16"):
        resolve("float16", CPU)


def test_the_bfloat16_pass_runs_the_forward_in_bfloat16_and_gives_moments_close_to_float32(tiny, tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n\n".join(SENTENCES))
    corpus = text_files([str(path)])
    seen = []
    module = tiny.model.get_input_embeddings()
    handle = module.register_forward_hook(lambda m, a, out: seen.append(torch.is_autocast_enabled(CPU.type)))
    got = {p: second_moments(tiny, corpus, [1, 3], 6, 12, batch_size=2, root=tmp_path / p, progress=False, precision=p) for p in PRECISIONS}
    handle.remove()
    assert seen[:3] == [False] * 3 and seen[3:] == [True] * 3, "float32 without autocast, then bfloat16 under it"
    for layer in (1, 3):
        f32, bf16 = got["float32"][layer], got["bfloat16"][layer]
        assert bf16.count == f32.count and bf16.key.precision == "bfloat16" and f32.key.precision == "float32"
        assert bf16.moment.dtype == torch.float32, "stored float32 like any moment"
        # the 14 tiny random architectures, torch 2.13 CPU: measured at most 1.06e-2 relative (Frobenius;
        # bfloat16 keeps 8 bits of mantissa); the other layer's moment is 1.0 or more off, a sum for a mean 71
        rel = float((bf16.moment.double() - f32.moment.double()).norm() / f32.moment.double().norm())
        assert rel < 3e-2, rel


def test_stats_compute_takes_a_precision_names_it_and_refuses_an_unknown_one(tmp_path, tiny_model_dir, corpus_file, monkeypatch):
    from click.testing import CliRunner

    from kedit.cli import main

    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path / "cache"))
    args = ["stats", "compute", str(tiny_model_dir), "--layers", "1", "--corpus", str(corpus_file), "--n-samples", "4"]
    runner = CliRunner()
    res = runner.invoke(main, [*args, "--precision", "bfloat16"])
    assert res.exit_code == 0 and "model.layers.1.mlp.down_proj, bfloat16, cached" in res.output, res.output
    default = resolve(StatisticsSection().precision, CPU).name
    res = runner.invoke(main, args)
    assert res.exit_code == 0 and f"down_proj, {default}, cached" in res.output, "without --precision: the spec default, resolved"
    stored = sorted(torch.load(f, weights_only=True)["key"].get("precision", "float32") for f in (tmp_path / "cache" / "stats").rglob("*.pt"))
    assert stored == sorted({"bfloat16", default}), "one file per precision (the second call reads the first's when they agree)"
    res = runner.invoke(main, [*args, "--precision", "float16"])
    assert res.exit_code == 2 and "Invalid value for '--precision'" in res.output
