"""``kedit data``: build an edit dataset from a spec, and publish it to the Hub.

    kedit data build SPEC [--out DIR] [--endpoint URL|offline]
    kedit data push DIR --repo-id ORG/NAME [--private] [--dry-run]

SPEC is a YAML or JSON file whose ``dataset.wikidata`` section configures the builder (other
top-level keys, such as ``model`` or ``methods``, are left to other commands). ``--out``
defaults to the spec's path without ``.yaml``/``.spec.yaml``. Every error exits with code 2
and a message that names the file and key.
"""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from kedit.data.errors import DataError
from kedit.engine import needs_engine


class DataCommandError(click.ClickException):
    """A failed ``kedit data`` command: message on stderr, exit code 2."""

    exit_code = 2


def _read_section(spec: Path) -> dict:
    """The ``dataset.wikidata`` mapping of a spec file; errors name the file and key."""
    try:
        raw = yaml.safe_load(spec.read_text(encoding="utf-8"))
    except OSError as err:
        raise DataCommandError(f"{spec}: cannot read: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise DataCommandError(f"{spec}: not valid YAML/JSON: {err}") from err
    section = raw
    for key in ("dataset", "wikidata"):
        if not isinstance(section, dict) or key not in section:
            raise DataCommandError(f"{spec}: key dataset.wikidata is missing (the builder's settings live there)")
        section = section[key]
    if section is not None and not isinstance(section, dict):
        raise DataCommandError(f"{spec}: key dataset.wikidata must be a mapping, got {section!r}")
    return section or {}


def default_out(spec: Path) -> Path:
    """``datasets/same_subject.spec.yaml`` → ``datasets/same_subject``."""
    name = spec.name
    for suffix in (".spec.yaml", ".spec.yml", ".spec.json", ".yaml", ".yml", ".json"):
        if name.endswith(suffix):
            return spec.with_name(name[: -len(suffix)])
    return spec.with_name(name + ".dataset")


@click.group("data")
def data() -> None:
    """Build edit datasets from Wikidata (or the offline snapshot) and publish them.

    \b
    Example:
      kedit data build datasets/same_subject.spec.yaml
    """


@data.command("build")
@needs_engine
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default: the spec's path without .yaml).")
@click.option("--endpoint", default=None,
              help="SPARQL endpoint URL, or 'offline' for the embedded snapshot; overrides dataset.wikidata.endpoint.")
def build(spec: Path, out: Path | None, endpoint: str | None) -> None:
    """Build the dataset that SPEC's dataset.wikidata section describes.

    \b
    Example:
      kedit data build datasets/same_subject.spec.yaml --out datasets/same_subject --endpoint offline
    """
    from kedit.data.builder import build_dataset
    from kedit.data.config import parse_config
    from kedit.data.sparql import SparqlClient
    from kedit.data.store import writable_directory, write_dataset

    section = _read_section(spec)
    out = out or default_out(spec)
    try:
        writable_directory(out)  # before the build: a path that cannot hold the files fails at once
        client = SparqlClient(endpoint or parse_config(section).endpoint)
        built = build_dataset(section, client)
        write_dataset(built, out)
    except DataError as err:
        raise DataCommandError(f"{spec}: {err}") from err
    counts = built.provenance["counts"]
    source = "embedded snapshot" if client.embedded else client.endpoint
    click.echo(f"wrote {counts['rows']} rows ({counts['relations']} relations) to {out} "
               f"from {source}; fingerprint {built.fingerprint}")


@data.command("push")
@needs_engine
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--repo-id", required=True, help="Hub dataset repository, ORG/NAME.")
@click.option("--private", is_flag=True, help="Create the repository as private (an existing one keeps its visibility).")
@click.option("--dry-run", is_flag=True, help="Print the commit's files (path, size, sha256); upload nothing.")
def push(directory: Path, repo_id: str, private: bool, dry_run: bool) -> None:
    """Publish DIRECTORY (written by `kedit data build`) to the Hub in one commit.

    The commit holds data.parquet, the card README.md, spec.yaml, provenance.json and
    fingerprint.json, each checked against fingerprint.json first; offline, without a token
    or when the Hub refuses, nothing is uploaded and the command exits 2.

    \b
    Example:
      kedit data push datasets/same_subject --repo-id my-org/kedit-same-subject --dry-run
    """
    from kedit.data import hub

    try:
        hub.push(directory, repo_id, private=private, dry_run=dry_run, echo=click.echo)
    except DataError as err:
        raise DataCommandError(f"{directory}: {err}") from err
