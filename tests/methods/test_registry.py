"""kedit.methods.registry: every registered method is in the tests' table of settings."""

from __future__ import annotations

from tests.tiny import METHOD_HP


def test_every_registered_method_is_tested():
    from kedit.methods import METHODS

    assert set(METHODS) == set(METHOD_HP)
