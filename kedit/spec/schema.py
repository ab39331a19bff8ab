"""The edit-spec JSON Schema, generated from the dataclasses that consume the spec.

One source of truth: every method's hyper-parameters and the ``dataset.wikidata`` section
are dataclasses with help text; :func:`build_schema` turns them into JSON Schema
(draft 2020-12). ``schemas/edit-spec.schema.json`` is this function's output, written by
``kedit schema --write`` and checked by the tests, so the file cannot drift from the code.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

import jsonschema

from kedit.data.config import WikidataConfig
from kedit.data.conflicts import DEFAULT as CONFLICTS_DEFAULT
from kedit.data.conflicts import POLICIES as CONFLICT_POLICIES
from kedit.data.formats import FORMATS
from kedit.methods import METHODS
from kedit.metrics import METRICS
from kedit.models import EMBEDDED
from kedit.spec.model import SECTIONS
from kedit.util import canonical_json, dataclass_schema

SCHEMA_VERSION = "1.0.0"
SCHEMA_ID = f"https://kedit.dev/schemas/edit-spec/{SCHEMA_VERSION}/edit-spec.schema.json"
REPORT_SCHEMA_FILE = "report.schema.json"
SPEC_SCHEMA_FILE = "edit-spec.schema.json"

# Errors that a schema keyword alone words badly carry their message in ``errorMessage`` (the
# keyword editors built on vscode-json-languageservice, yaml-language-server among them, show).
NEEDS_METHODS = (
    "'methods' is a required property (a file that specs include and that runs no methods of its own "
    "is a fragment: say so with a top-level `fragment: true`)"
)
FRAGMENT_WITH_METHODS = "a fragment (`fragment: true`) runs no methods: remove `fragment: true` to make this file a spec, or move `methods` to the specs that include it"
BOTH_DATASET_KEYS = "give `dataset` or `datasets`, not both"


def _forbidden(message: str) -> dict:
    """A property that must not be there, with the reason as its error message."""
    return {"not": {}, "errorMessage": message}


def _spec_or_fragment() -> dict:
    """The top-level requirements: a spec needs ``methods`` and one of ``dataset``/``datasets``;
    a fragment (``fragment: true``) needs neither and may not have ``methods``.

    A file with ``include`` may get its required keys from the files it includes, so they are
    asked only of a file without it: an editor checks the file as written, kedit the merged spec
    (which has no ``include`` left)."""
    needs = {"allOf": [{"required": ["methods"], "errorMessage": NEEDS_METHODS}, {"anyOf": [{"required": ["dataset"]}, {"required": ["datasets"]}]}]}
    return {
        "if": {"properties": {"fragment": {"const": True}}, "required": ["fragment"]},
        "then": {"properties": {"methods": _forbidden(FRAGMENT_WITH_METHODS)}},
        "else": {"if": {"required": ["include"]}, "else": needs},
        "dependentSchemas": {"dataset": {"properties": {"datasets": _forbidden(BOTH_DATASET_KEYS)}}},
    }


def _dataset_schema() -> dict:
    """One dataset: built from Wikidata or read from a file."""
    return {
        "type": "object",
        "description": "Where the edits come from: built from Wikidata, or read from a local file.",
        "additionalProperties": False,
        "properties": {
            "wikidata": {"$ref": "#/$defs/wikidata"},
            "file": {"type": "string", "description": "Local JSONL / parquet / `datasets` directory / `kedit data build` directory (relative to the spec)."},
            "format": {
                "enum": ["auto", *FORMATS.names()],
                "default": "auto",
                "description": "The file's row format: kedit's own rows, CounterFact (ROME/MEMIT), zsRE (MEND's evaluation set) or EasyEdit's flat records; auto: read from the first row's keys.",
            },
            "limit": {"type": "integer", "minimum": 1, "description": "Use only the first N rows."},
            "conflicts": {
                "enum": CONFLICT_POLICIES.names(),
                "default": CONFLICTS_DEFAULT,
                "description": "What to do with contradictory edits (same subject and relation, or same prompt, different new targets) "
                "and duplicate ones (the same edit twice), found among the rows used: "
                + "; ".join(f"{n}: {p.help}" for n, p in CONFLICT_POLICIES.items())
                + ". Every policy records the groups found, with their row indices, in the report.",
            },
        },
        "oneOf": [{"required": ["wikidata"]}, {"required": ["file"]}],
        "dependentRequired": {"format": ["file"]},
    }


SWEEP_HELP = (
    "Hyper-parameter name -> the values to run, one run per combination (the cartesian product, the first name varying slowest), "
    "each labelled `<label or method> <name>=<value> ...` (`MEMIT λ=3500`); the report plots the runs of a sweep as one curve "
    "(tradeoff.png). A swept name may not be in the entry's `hparams`."
)


def _sweep_schema(method: str, hparams: dict) -> dict:
    """A method's ``sweep``: each of its hyper-parameters as a list of values, each value checked as in ``hparams``."""
    return {
        "type": "object",
        "description": f"{method}: {SWEEP_HELP}",
        "additionalProperties": False,
        "allOf": [{"minProperties": 1, "errorMessage": "a sweep names at least one hyper-parameter"}],
        "properties": {
            name: {
                "type": "array",
                "description": f"Values of {name} to run, in order.",
                "uniqueItems": True,
                "allOf": [{"minItems": 1, "errorMessage": f"a sweep of {name} lists at least one value"}],
                "items": {"$ref": f"#/$defs/hparams/{method}/properties/{name}"},
            }
            for name in hparams["properties"]
        },
    }


def build_schema() -> dict:
    """The whole edit-spec schema."""
    names = sorted(METHODS)
    method_defs = {n: dataclass_schema(METHODS[n].config, METHODS[n].summary) for n in names}
    method_item = {
        "type": "object",
        "description": "One method to run, with hyper-parameters (defaults: the method's config, then the embedded model's presets, then the spec's `hparams` for that method).",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {"enum": names, "description": "Registered method name."},
            "label": {"type": "string", "description": "Row name in the report (default: the method name)."},
            "hparams": {"type": "object", "description": "Hyper-parameters of the method (see $defs/hparams); with `sweep`, the base every sweep point overrides."},
            "sweep": {"type": "object", "description": SWEEP_HELP},
        },
        "allOf": [
            {"if": {"properties": {"name": {"const": n}}}, "then": {"properties": {"hparams": {"$ref": f"#/$defs/hparams/{n}"}, "sweep": {"$ref": f"#/$defs/sweep/{n}"}}}}
            for n in names
        ],
    }
    dataset = _dataset_schema()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "kedit edit spec",
        "description": f"A declarative knowledge-editing experiment (schema version {SCHEMA_VERSION}).",
        "type": "object",
        "additionalProperties": False,
        **_spec_or_fragment(),
        "properties": {
            "fragment": {
                "type": "boolean",
                "default": False,
                "description": "true: this file is a fragment that specs `include` (shared settings, no `methods`); it is checked key by key "
                "without a spec's required keys, and the key itself is dropped when the file is included.",
            },
            "version": {"const": 1, "description": "Spec format version.", "default": 1},
            "name": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$", "description": "Name of the experiment; the report directory starts with it."},
            "description": {"type": "string", "description": "Free text, copied into the report."},
            "include": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                "description": "Spec file(s), relative to this one, merged underneath this spec (mappings merge key by key; this file wins).",
            },
            "dataset": {"$ref": "#/$defs/dataset"},
            "datasets": {
                "type": "object",
                "description": "Several named datasets (e.g. same-subject and distinct-subject); every method runs on each. Use instead of `dataset`.",
                "minProperties": 1,
                "propertyNames": {"pattern": "^[A-Za-z0-9_.-]+$"},
                "additionalProperties": {"$ref": "#/$defs/dataset"},
            },
            "model": SECTIONS["model"].schema(embedded=sorted(EMBEDDED)),
            "statistics": SECTIONS["statistics"].schema(),
            "runtime": SECTIONS["runtime"].schema(),
            "hparams": {
                "type": "object",
                "description": "Per-method default hyper-parameters, over the embedded model's presets and under each method entry's own.",
                "additionalProperties": False,
                "properties": {n: {"$ref": f"#/$defs/hparams/{n}"} for n in names},
            },
            "methods": {"type": "array", "minItems": 1, "items": method_item, "description": "Methods to compare."},
            "batch_sizes": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"anyOf": [{"type": "integer", "minimum": 1}, {"const": "all"}]},
                "default": ["all"],
                "description": "Edits per batch; 'all' = every row of the dataset in one batch.",
            },
            "batches_per_size": {"type": "integer", "minimum": 1, "default": 1, "description": "Disjoint batches drawn (seeded) per batch size; metrics are averaged over them."},
            "sequential": {
                "type": "boolean",
                "default": False,
                "description": "Apply each size's batches one after another without restoring (a stream of edits), earlier edits' keys kept in later solves; reports every step and the first batch's metrics after each.",
            },
            "seeds": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "integer"}, "default": [0], "description": "Seeds: each draws its own batches and context templates."},
            "metrics": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": sorted(METRICS)}, "description": "Metrics to compute."},
            "report": SECTIONS["report"].schema(),
        },
        "$defs": {"dataset": dataset, "hparams": method_defs, "sweep": {n: _sweep_schema(n, method_defs[n]) for n in names}, "wikidata": dataclass_schema(WikidataConfig, "Build the edits from Wikidata through SPARQL.")},
    }
    return schema


@cache
def load_schema(name: str = SPEC_SCHEMA_FILE) -> dict:
    """A schema shipped with kedit (``schemas/`` in the repository; ``kedit/schemas`` links to it)."""
    return json.loads(files("kedit").joinpath("schemas", name).read_text(encoding="utf-8"))


def whole_number(instance) -> bool:
    """A float with no fractional part (``2.0``): JSON Schema calls it an integer, Python does not."""
    return isinstance(instance, float) and instance.is_integer()


def _type(validator, types, instance, schema):
    """``type``, where an integer is a whole number written without a decimal point: ``2.0``
    is refused wherever the schema asks for an integer (and not a number), naming the fix."""
    wanted = types if isinstance(types, list) else [types]
    if whole_number(instance) and "integer" in wanted and "number" not in wanted:
        yield jsonschema.ValidationError(f"{instance!r}: write a whole number without a decimal point ({int(instance)})")
        return
    yield from jsonschema.Draft202012Validator.VALIDATORS["type"](validator, types, instance, schema)


def _unique_items(validator, unique, instance, schema):
    """``uniqueItems``, located at each repeated item rather than at the list."""
    if not unique or not isinstance(instance, list):
        return
    first: dict[str, int] = {}
    for i, item in enumerate(instance):
        key = canonical_json(item)
        if key in first:
            yield jsonschema.ValidationError(f"{item!r} is repeated (already item {first[key]}); each value may appear once", path=[i])
        else:
            first[key] = i


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    validators={"type": _type, "uniqueItems": _unique_items},
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", lambda _, x: isinstance(x, int) and not isinstance(x, bool)),
)


@cache
def spec_validator() -> jsonschema.protocols.Validator:
    """The validator of edit specs: draft 2020-12 with whole numbers for "integer" and
    located repeats for "uniqueItems"."""
    return _Validator(load_schema())


def schema_text(schema: dict) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
