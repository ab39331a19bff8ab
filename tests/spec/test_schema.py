"""The committed JSON Schema is exactly what the configs generate, it is installed with kedit,
and the shipped specs point editors at it."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from kedit.methods import METHODS
from kedit.spec.schema import SPEC_SCHEMA_FILE, build_schema, load_schema, schema_text

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_schema_is_generated_from_the_configs():
    committed = (ROOT / "schemas" / SPEC_SCHEMA_FILE).read_text()
    assert committed == schema_text(build_schema()), "run `kedit schema --write` and commit schemas/"


def test_the_schema_is_a_valid_draft_2020_12_schema_with_a_versioned_id():
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "/edit-spec/" in schema["$id"] and schema["$schema"].endswith("2020-12/schema")


def test_every_method_field_has_help_and_a_default_in_the_schema():
    schema = load_schema()
    for name, method in METHODS.items():
        props = schema["$defs"]["hparams"][name]["properties"]
        assert set(props) == {f.name for f in dataclasses.fields(method.config)}
        for field, prop in props.items():
            assert prop.get("description"), f"{name}.{field} has no help"
            assert "default" in prop, f"{name}.{field} has no default"


def test_an_installed_kedit_finds_its_schemas():
    """kedit/schemas links to the top-level schemas/ folder; the wheel must carry the files."""
    from importlib.resources import files

    assert json.loads(files("kedit").joinpath("schemas", SPEC_SCHEMA_FILE).read_text())["$id"] == load_schema()["$id"]


def test_the_wheel_carries_the_schemas_and_the_data(tmp_path):
    import subprocess
    import sys
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("kedit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("kedit/schemas/edit-spec.schema.json", "kedit/schemas/report.schema.json", "kedit/models/architectures.yaml",
                   "kedit/data/wikidata/snapshot.ttl", "kedit/data/names/names.txt",
                   *(f"kedit/datasets/{name}/{file}" for name in ("same_subject", "distinct_subject", "grouped_subject")
                     for file in ("data.parquet", "spec.yaml", "provenance.json", "fingerprint.json", "README.md"))):
        assert needed in names


MODELINE = re.compile(r"# yaml-language-server: \$schema=(\S+)")


def _modeline(path: Path) -> str | None:
    """The ``$schema`` target of a YAML file's yaml-language-server first line, if it has one."""
    found = MODELINE.fullmatch(path.read_text(encoding="utf-8").split("\n", 1)[0])
    return found[1] if found else None


SHIPPED_YAML = sorted(p for folder in ("specs", "benchmarks", "examples") for p in (ROOT / folder).rglob("*.y*ml"))


def test_every_spec_under_specs_points_editors_at_the_schema():
    specs = sorted((ROOT / "specs").rglob("*.yaml"))
    assert specs and [p.relative_to(ROOT) for p in specs if _modeline(p) is None] == []


@pytest.mark.parametrize("path", [p for p in SHIPPED_YAML if _modeline(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_a_yaml_language_server_line_points_at_the_spec_schema(path):
    target = _modeline(path)
    schema = (path.parent / target).resolve()
    assert schema.is_file(), f"{path.relative_to(ROOT)}: $schema={target} does not exist"
    assert json.loads(schema.read_text())["$id"] == load_schema()["$id"]


@pytest.mark.parametrize("path", sorted((ROOT / "specs").rglob("*.yaml")), ids=lambda p: str(p.relative_to(ROOT)))
def test_an_editor_accepts_each_shipped_spec_and_fragment_as_written(path):
    """An editor validates one file, unmerged, with a plain draft 2020-12 validator: a spec whose
    dataset comes from an include, and a fragment without methods, must not show errors there."""
    errors = [e.message for e in jsonschema.Draft202012Validator(load_schema()).iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []
