"""Read an edit dataset that ``kedit data build`` already wrote instead of building it again.

A build from the embedded snapshot is a function of its :class:`BuildKey`: the resolved
``dataset.wikidata`` section, the snapshot's sha256 and kedit's version. A directory written by
``kedit data build`` records all three (``spec.yaml``: the resolved section; ``provenance.json``:
``kedit_version``, ``embedded``, ``snapshot_sha256``). :func:`build_or_reuse` reads the rows of
the first directory on the search path whose key equals the requested one, instead of loading
the snapshot into oxigraph and querying it (about 11 s on an empty cache, 0.5 s on a warm one);
the rows are the ones a build gives, bit for bit (tests/data/test_reuse.py compares them for
every shipped dataset).

The search path (:func:`search_path`): each folder of ``$KEDIT_DATASETS`` (separated by
``os.pathsep``), then the datasets shipped with kedit, :data:`SHIPPED` (``kedit/datasets``, a
link to the repository's ``datasets/``; the wheel carries them). A folder on it is a dataset
directory itself or holds dataset directories one level down, read in name order.

Never reused: a build from a server endpoint (its answers change over time, so its rows are no
function of the key), and any directory whose key differs in anything (seed, template, split,
any other setting, the snapshot, kedit's version). The endpoint's own name is not part of the
key: ``offline`` and ``snapshot`` name the same snapshot, and ``kedit data build --endpoint
offline`` records the spec's endpoint while ``provenance.json`` says where the rows came from.

A directory is read only if each published file still has the sha256 its ``fingerprint.json``
records (:func:`kedit.data.fingerprint.check`), its ``data.parquet`` (the bytes checked) reads,
and the rows read have the recorded ``rows_sha256``. One that fails (altered, damaged,
unreadable, a file missing) is named with ``logging.warning`` and never used; the dataset is
then built. Reused rows carry the directory's provenance (how they were built: the queries,
counts and links) plus ``built_directory``, the directory's absolute path: read, not queried.

The version stands for the code that builds: a checkout that changes the builder without a new
version must rebuild its dataset directories (``kedit data build``); the shipped ones are
rebuilt and compared by tests/data/test_shipped_datasets.py and test_reuse.py.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from kedit import __version__
from kedit.data import embedded, fingerprint, parquet
from kedit.data.builder import BuiltDataset, build_dataset
from kedit.data.config import WikidataConfig, as_dict, parse_config
from kedit.data.errors import ConfigError, DataError, DatasetFileError
from kedit.data.sparql import SparqlClient
from kedit.util import sha256

log = logging.getLogger(__name__)

#: The environment variable listing folders of built datasets, searched before :data:`SHIPPED`.
ENV = "KEDIT_DATASETS"
#: The datasets shipped with kedit: ``kedit/datasets`` links to the repository's ``datasets/``.
SHIPPED = Path(__file__).resolve().parents[1] / "datasets"
#: What ``provenance.json`` adds for rows read from a directory: its absolute path.
READ_FROM = "built_directory"


@dataclass(frozen=True)
class BuildKey:
    """What a snapshot build's rows depend on; two builds with equal keys give the same rows."""

    config: dict  # the resolved dataset.wikidata section without `endpoint`
    snapshot_sha256: str
    kedit_version: str

    def differences(self, other: BuildKey) -> list[str]:
        """The names of the fields in which ``other`` differs (``config`` by its keys)."""
        names = [f.name for f in dataclasses.fields(self) if f.name != "config" and getattr(self, f.name) != getattr(other, f.name)]
        return [f"config.{k}" for k in self.config if self.config[k] != other.config.get(k)] + names


def _key(config: WikidataConfig, snapshot_sha256: str, version: str) -> BuildKey:
    return BuildKey({k: v for k, v in as_dict(config).items() if k != "endpoint"}, snapshot_sha256, version)


def requested_key(config: WikidataConfig) -> BuildKey | None:
    """The key of a build of ``config`` by this kedit; None unless its endpoint is the snapshot."""
    if config.endpoint not in embedded.NAMES:
        return None
    return _key(config, embedded.EmbeddedEndpoint().fingerprint, __version__)


def recorded_key(directory: Path, files: Mapping[str, bytes]) -> BuildKey | None:
    """The key a dataset directory's ``spec.yaml`` and ``provenance.json`` (given as ``files``,
    their bytes) record; None when its rows did not come from the embedded snapshot. A file that
    does not say is a :class:`DatasetFileError` naming it."""
    try:
        section = yaml.safe_load(files["spec.yaml"])["dataset"]["wikidata"]
        if not isinstance(section, dict):
            raise TypeError(f"dataset.wikidata is {type(section).__name__}, not a mapping")
        config = parse_config(section)
    except (yaml.YAMLError, TypeError, KeyError, ConfigError) as err:
        raise DatasetFileError(f"{directory / 'spec.yaml'}: not the resolved dataset.wikidata section "
                               f"`kedit data build` writes ({type(err).__name__}: {err})") from None
    try:
        provenance = json.loads(files["provenance.json"])
        source = provenance["embedded"], provenance.get("snapshot_sha256"), provenance["kedit_version"]
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError, KeyError) as err:
        raise DatasetFileError(f"{directory / 'provenance.json'}: does not say what built the rows "
                               f"(embedded, snapshot_sha256, kedit_version): {type(err).__name__}: {err}") from None
    embedded_snapshot, snapshot_sha256, version = source
    return _key(config, snapshot_sha256, version) if embedded_snapshot is True and snapshot_sha256 else None


def search_path() -> list[Path]:
    """The folders of ``$KEDIT_DATASETS`` (``os.pathsep``-separated, empty entries skipped),
    then :data:`SHIPPED`."""
    listed = [Path(p).expanduser() for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip()]
    return [*listed, SHIPPED]


def candidates(folders: Sequence[Path]) -> Iterator[Path]:
    """Each dataset directory (one holding ``fingerprint.json``) that ``folders`` are or hold
    one level down, in order; a folder that is not there or cannot be listed is reported."""
    for folder in folders:
        if (folder / fingerprint.NAME).is_file():
            yield folder
            continue
        try:
            inside = sorted(d for d in folder.iterdir() if (d / fingerprint.NAME).is_file())
        except OSError as err:
            log.warning("dataset search path: cannot list %s (%s); skipped", folder, err.strerror or err)
            continue
        yield from inside


def read_built(directory: Path, files: Mapping[str, bytes], recorded: Mapping) -> list[dict]:
    """The rows of ``directory``'s ``data.parquet`` (``files`` holds its checked bytes), which
    must have the ``rows_sha256`` and row count ``fingerprint.json`` records (``recorded``)."""
    rows = parquet.read_table(directory / "data.parquet", files["data.parquet"]).to_pylist()
    if sha256(rows) != recorded["rows_sha256"] or len(rows) != recorded["rows"]:
        raise DatasetFileError(f"{directory / 'data.parquet'}: its {len(rows)} rows have sha256 {sha256(rows)}; "
                               f"fingerprint.json records {recorded['rows']} rows with {recorded['rows_sha256']}")
    return rows


def _matching(directory: Path, key: BuildKey, spec: dict) -> BuiltDataset | None:
    """``directory``'s dataset (with ``spec``, the requested resolved section) if its files are
    intact and its key is ``key``, else None; a directory that is altered, damaged or
    unreadable raises :class:`DataError`."""
    files = fingerprint.read_files(directory)
    recorded = fingerprint.check(directory, files)
    found = recorded_key(directory, files)
    if found != key:
        log.debug("%s: not a build of this dataset (differs in %s)", directory,
                  ", ".join(key.differences(found)) if found else "its source: not the embedded snapshot")
        return None
    rows = read_built(directory, files, recorded)
    provenance = json.loads(files["provenance.json"]) | {READ_FROM: str(directory.resolve())}
    return BuiltDataset(rows, spec, provenance, recorded["rows_sha256"])


def find(config: WikidataConfig, folders: Sequence[Path] | None = None) -> BuiltDataset | None:
    """The dataset of the first directory of ``folders`` (default :func:`search_path`) built by
    this kedit from ``config`` and the same snapshot, or None. Directories that cannot be used
    are named in one warning, which says the dataset is built instead when none was found."""
    key = requested_key(config)
    if key is None:
        return None
    refused, found = [], None
    for directory in candidates(search_path() if folders is None else folders):
        try:
            found = _matching(directory, key, as_dict(config))
        except DataError as err:
            refused.append(str(err).replace("\n", "\n    "))  # each message names its directory or file
        if found is not None:
            break
    if refused:
        then = "" if found else "; the dataset is built from the snapshot instead"
        log.warning("built dataset directories not used (altered, damaged or unreadable)%s:\n  %s", then, "\n  ".join(refused))
    if found is None:
        return None
    log.info("rows read from %s (built by kedit %s from the same settings and snapshot), not queried",
             found.provenance[READ_FROM], key.kedit_version)
    return found


def build_or_reuse(cfg: Mapping | None, client: SparqlClient | None = None,
                   folders: Sequence[Path] | None = None) -> BuiltDataset:
    """The dataset a ``dataset.wikidata`` section describes: read by :func:`find` from a built
    directory of ``folders`` (default :func:`search_path`) whose key matches, else built by
    :func:`~kedit.data.builder.build_dataset` (with ``client`` if given). Raises what
    :func:`~kedit.data.config.parse_config` and ``build_dataset`` raise."""
    return find(parse_config(cfg), folders) or build_dataset(cfg, client)
