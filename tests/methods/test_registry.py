"""kedit.methods.registry: every registered method is in the tests' table of settings."""

from __future__ import annotations

from tests.tiny import METHOD_HP


def test_every_registered_method_is_tested():
    from kedit.methods import METHODS

    assert set(METHODS) == set(METHOD_HP)


def test_every_method_names_a_compute_function_that_imports():
    """The registry holds where compute lives (so specs are checked without the engine); each resolves."""
    from kedit.methods import METHODS

    for name, method in METHODS.items():
        assert callable(method.compute), name
        assert method.compute.__module__ == method.implementation.partition(":")[0]


def test_a_run_records_its_sweep_point_and_only_a_sweeps_run_records_one():
    """What a report's resolved spec keeps: a run as before, a sweep's run also its entry and point
    (a plot groups the runs of one entry)."""
    from kedit.methods import MethodRun
    from kedit.methods.registry import SweepPoint

    plain = MethodRun.of("MEMIT", {"v_lr": 0.7}, entry=1)
    assert set(plain.to_dict()) == {"name", "label", "hparams"}
    point = MethodRun("MEMIT", "MEMIT λ=3500", plain.config, entry=2, sweep=SweepPoint("MEMIT", 4, {"mom2_update_weight": 3500}, "λ=3500"))
    assert point.to_dict()["sweep"] == {"entry": 2, "curve": "MEMIT", "index": 4, "values": {"mom2_update_weight": 3500}, "text": "λ=3500"}


def test_lambda_reads_as_its_symbol_in_a_sweeps_labels():
    """The ridge weight of every method that has one carries the symbol λ (kedit.spec.sweep labels with it)."""
    import dataclasses

    from kedit.methods import METHODS

    symbols = {(name, f.name) for name, m in METHODS.items() for f in dataclasses.fields(m.config) if f.metadata.get("symbol") == "λ"}
    assert symbols == {("MEMIT", "mom2_update_weight"), ("MEMIT-Merge", "mom2_update_weight"), ("PMET", "mom2_update_weight"), ("AlphaEdit", "L2")}
