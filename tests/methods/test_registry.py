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
