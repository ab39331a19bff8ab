"""Read, merge, validate and resolve edit specs, with errors located by file, JSON pointer and line.

Each file is parsed once (:mod:`kedit.spec.document`), keeping each value's line, so a
schema error at ``/methods/0/hparams/v_lr`` can be reported as ``spec.yaml:14``.

A *fragment* is a file that specs include and that is no spec on its own (shared dataset or
hyper-parameter settings, no ``methods``). It says so with a top-level ``fragment: true``: the
schema then checks every key it has but asks for none of a spec's required keys, and the
marker is dropped when the fragment is included. So a fragment checks the same named alone (as
pre-commit passes it) as in a folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jsonschema

from kedit.data.config import as_dict, parse_config
from kedit.data.errors import ConfigError
from kedit.metrics import DEFAULT_METRICS
from kedit.spec.document import read_document
from kedit.spec.errors import Problem, SpecError, escape
from kedit.spec.methods import resolve_methods
from kedit.spec.model import SECTIONS, Spec
from kedit.spec.schema import load_schema, spec_validator, whole_number


def _merge(base, over):
    """Deep-merge mappings (``over`` wins); anything else is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    return over


def read_spec(path: Path, _seen: tuple = (), read=read_document) -> tuple[dict, dict]:
    """A spec file with its ``include`` files merged underneath: (data, pointer -> (file, line)).
    ``read`` reads one file (:func:`read_document`, or a memo of it when a folder is checked)."""
    path = Path(path)
    if path.resolve() in _seen:
        raise SpecError([Problem(str(path), "/include", None, "include cycle: " + " -> ".join(map(str, _seen + (path,))))])
    data, lines = read(path)
    if not isinstance(data, dict):
        raise SpecError([Problem(str(path), "", 1, f"a spec must be a mapping, got {type(data).__name__}")])
    includes = data.get("include") or []
    includes = [includes] if isinstance(includes, str) else includes
    merged, merged_lines = {}, {}
    for inc in includes:
        if not isinstance(inc, str):
            continue  # the schema reports it
        inc_path = path.parent / inc
        if not inc_path.is_file():
            raise SpecError([Problem(str(path), "/include", lines.get("/include", (None, None))[1], f"included file {inc_path} does not exist")])
        sub, sub_lines = read_spec(inc_path, _seen + (path.resolve(),), read)
        merged = _merge(merged, {k: v for k, v in sub.items() if k != "fragment"})
        merged_lines |= {p: at for p, at in sub_lines.items() if p != "/fragment"}
    merged = _merge(merged, {k: v for k, v in data.items() if k != "include"})
    return merged, merged_lines | lines


def _line(lines: dict, pointer: str, default_file: str) -> tuple[str, int | None]:
    """The line of ``pointer`` or of its closest ancestor present in the document."""
    p = pointer
    while True:
        if p in lines:
            return lines[p]
        if not p:
            return default_file, None
        p = p.rsplit("/", 1)[0]


def _message(err: jsonschema.ValidationError) -> str:
    """An error's message: the schema's own ``errorMessage`` where it has one; of alternatives
    (anyOf/oneOf), every reason, or only the whole-number one when a float written as ``2.0`` is
    what failed."""
    if isinstance(err.schema, dict) and "errorMessage" in err.schema:
        return err.schema["errorMessage"]
    if err.validator not in ("oneOf", "anyOf") or not err.context:
        return err.message
    whole = [c.message for c in err.context if c.validator == "type" and whole_number(c.instance)]
    return "; ".join(sorted(set(whole or [c.message for c in err.context])))


def schema_problems(data: dict, lines: dict, file: str) -> list[Problem]:
    """Schema errors, each at the line of the value (or of the unexpected key) it is about."""
    problems = []
    for err in spec_validator().iter_errors(data):
        pointer = "".join(f"/{escape(p)}" for p in err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            for key in sorted(k for k in err.instance if k not in allowed):
                where, line = _line(lines, f"{pointer}/{escape(key)}", file)
                known = ", ".join(sorted(allowed))
                problems.append(Problem(where, f"{pointer}/{escape(key)}", line, f"unknown key {key!r}; allowed here: {known}"))
            continue
        where, line = _line(lines, pointer, file)
        problems.append(Problem(where, pointer, line, _message(err)))
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.pointer))


def _defaults(name: str):
    return load_schema()["properties"][name].get("default")


def resolve(data: dict, lines: dict, file: str) -> Spec:
    """A schema-valid mapping -> :class:`Spec`; semantic errors (method configs, dataset
    settings, missing files) become located problems."""
    problems: list[Problem] = []

    def problem(pointer: str, message: str):
        where, line = _line(lines, pointer, file)
        problems.append(Problem(where, pointer, line, message))

    base = Path(file).parent
    datasets = {}
    named = data["datasets"] if "datasets" in data else {"dataset": data["dataset"]}
    for name, raw in named.items():
        where = f"/datasets/{escape(name)}" if "datasets" in data else "/dataset"
        ds = dict(raw)
        if "file" in ds:
            path = (base / ds["file"]).resolve()
            if not path.exists():
                problem(f"{where}/file", f"dataset file {path} does not exist")
        else:
            try:
                ds["wikidata"] = as_dict(parse_config(ds["wikidata"]))
            except ConfigError as e:
                problem(f"{where}/wikidata{e.pointer}", e.reason)
        datasets[name] = ds
    model_presets = SECTIONS["model"](**(data.get("model") or {})).preset_hparams()
    presets = data.get("hparams") or {}
    # method defaults < the embedded model's presets < the spec's hparams < the entry's own (< its sweep point)
    methods = resolve_methods(data["methods"], lambda name: {**model_presets.get(name, {}), **presets.get(name, {})}, problem)
    if problems:
        raise SpecError(problems)
    sections = {name: cls(**(data.get(name) or {})) for name, cls in SECTIONS.items()}
    return Spec(
        name=data.get("name") or Path(file).stem,
        description=data.get("description", ""),
        datasets=datasets,
        methods=methods,
        batch_sizes=data.get("batch_sizes", _defaults("batch_sizes")),
        batches_per_size=data.get("batches_per_size", _defaults("batches_per_size")),
        sequential=data.get("sequential", _defaults("sequential")),
        seeds=data.get("seeds", _defaults("seeds")),
        metrics=data.get("metrics", list(DEFAULT_METRICS)),
        source=str(file),
        **sections,
    )


def is_fragment(data: dict) -> bool:
    """Whether a read file is a fragment (``fragment: true``), not a spec to run."""
    return data.get("fragment") is True


def read_valid(path: Path | str, read=read_document) -> tuple[dict, dict]:
    """Read, merge includes and validate against the schema: (data, lines) as :func:`read_spec`;
    raises :class:`SpecError`."""
    data, lines = read_spec(Path(path), read=read)
    problems = schema_problems(data, lines, str(path))
    if problems:
        raise SpecError(problems)
    return data, lines


def load_spec(path: Path | str, read=read_document) -> Spec:
    """Read, merge includes, validate against the schema and resolve; raises :class:`SpecError`
    (also for a fragment, which has nothing to run)."""
    data, lines = read_valid(path, read)
    if is_fragment(data):
        where, line = _line(lines, "/fragment", str(path))
        raise SpecError([Problem(where, "/fragment", line, "this file is a fragment (`fragment: true`) and runs no methods: give a spec that includes it")])
    return resolve(data, lines, str(path))


SPEC_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class Checked:
    """The outcome of validating one file."""

    file: str
    problems: list[Problem]
    unreadable: bool = False
    fragment: bool = False  # checked as a fragment (``fragment: true``), not as a spec

    @property
    def valid(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"file": self.file, "valid": self.valid, "unreadable": self.unreadable, "fragment": self.fragment,
                "problems": [p.as_dict() for p in self.problems]}


def check_file(path: Path, read=read_document) -> Checked:
    """Validate one spec file completely (schema, then method configs, datasets and files); a
    fragment against the schema alone (its settings are resolved in the specs that include it)."""
    try:
        data, lines = read_valid(path, read)
        if not is_fragment(data):
            resolve(data, lines, str(path))
    except SpecError as e:
        return Checked(str(path), e.problems, e.unreadable)
    return Checked(str(path), [], fragment=is_fragment(data))


def _memo(read):
    """``read`` remembering each file's document, or its SpecError, so a folder's files are
    parsed once however many specs include them."""
    done: dict = {}

    def cached(path: Path):
        key = Path(path).resolve()
        if key not in done:
            try:
                done[key] = read(path)
            except SpecError as e:
                done[key] = e
        if isinstance(done[key], SpecError):
            raise done[key]
        return done[key]

    return cached


def _fragments(files: list[Path], read) -> set[Path]:
    """Unmarked fragments: files other files include that have no ``methods`` and no
    ``fragment: true`` (how kedit 0.1 knew presets), checked only through the specs that
    include them. A marked fragment is checked on its own as well."""
    data, included = {}, set()
    for f in files:
        try:
            data[f.resolve()] = doc = read(f)[0]
        except SpecError:
            continue  # reported when the file itself is checked
        inc = doc.get("include") if isinstance(doc, dict) else None
        for name in [inc] if isinstance(inc, str) else inc if isinstance(inc, list) else []:
            if isinstance(name, str):
                included.add((f.parent / name).resolve())
    return {p for p in included if not (isinstance(data.get(p), dict) and ("methods" in data[p] or is_fragment(data[p])))}


def check_paths(paths: list[Path]) -> list[Checked]:
    """Validate files and folders (every .yaml/.yml/.json below, except unmarked fragments other
    specs include); one unreadable file is reported as such and the others are still checked."""
    results = []
    for path in paths:
        if path.is_dir():
            read = _memo(read_document)
            files = sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())
            fragments = _fragments(files, read)
            results += [check_file(f, read) for f in files if f.resolve() not in fragments]
        else:
            results.append(check_file(path))
    return results
