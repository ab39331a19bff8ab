"""The row schema: field order, ``datasets`` features and descriptions, read from ``rows.yaml``."""

from __future__ import annotations

from pathlib import Path

import datasets
import yaml

ROWS_YAML = Path(__file__).parent / "rows.yaml"


def fields() -> dict[str, dict]:
    """Field name → ``{dtype, description}``, in row order."""
    return yaml.safe_load(ROWS_YAML.read_text(encoding="utf-8"))


def _feature(dtype):
    if isinstance(dtype, list):
        return datasets.List(_feature(dtype[0]))
    if isinstance(dtype, dict):
        return {name: _feature(sub) for name, sub in dtype.items()}
    return datasets.Value(dtype)


def features() -> datasets.Features:
    """The ``datasets`` features of a row."""
    return datasets.Features({name: _feature(spec["dtype"]) for name, spec in fields().items()})


def dtype_text(dtype) -> str:
    """``[{prompt: string, target: string}]`` style, for the card's field table."""
    if isinstance(dtype, list):
        return f"list[{dtype_text(dtype[0])}]"
    if isinstance(dtype, dict):
        return "{" + ", ".join(f"{k}: {dtype_text(v)}" for k, v in dtype.items()) + "}"
    return dtype
