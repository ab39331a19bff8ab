"""kedit.metrics.catalog: every declared metric is computed by the module it names; a metric
can be computed only once it is declared."""

from __future__ import annotations

import pytest

from kedit.metrics import METRICS, get_metric, register_metric
from kedit.registry import UnknownName


def test_every_declared_metric_is_computed_by_its_module():
    for name, info in METRICS.items():
        metric = get_metric(name)
        assert metric.name == info.name
        assert metric.after.__module__ == info.module


def test_an_undeclared_metric_cannot_be_registered():
    with pytest.raises(UnknownName, match="unknown metric 'no_such_metric'"):
        register_metric("no_such_metric")
