"""Publish a dataset directory (written by :mod:`kedit.data.store`) to the Hugging Face Hub
in one commit.

:func:`plan` reads and checks everything first, with no network: the directory holds every
file of :data:`~kedit.data.fingerprint.UPLOADED`; each published file still has the sha256
``fingerprint.json`` recorded when it was built; the card's ``configs`` name only files that
are uploaded; ``data.parquet`` has the card's features and the recorded number of rows. The
bytes checked are the bytes uploaded. :func:`push` then makes sure the repository exists and
makes ONE ``HfApi.create_commit`` adding those files (``data.jsonl``, the same rows as
``data.parquet``, stays local): the Hub applies a commit whole or not at all, so a failure
leaves nothing half-uploaded. Offline (``HF_HUB_OFFLINE``), without a token (``HF_TOKEN`` or
``hf auth login``), with a malformed repository id, or when the Hub refuses, it raises
:class:`~kedit.data.errors.PublishError` before or instead of the commit. ``dry_run`` prints
the commit's files (path, size, sha256) and uploads nothing.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import datasets
import huggingface_hub
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import CommitOperationAdd, DatasetCard, HfApi
from huggingface_hub import constants as hub_constants
from huggingface_hub import errors as hub_errors

from kedit.data import fingerprint, parquet
from kedit.data.errors import DatasetFileError, PublishError

REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
#: What a Hub call raises when the Hub refuses (HTTP errors), cannot be reached (the HTTP
#: library's transport errors: ``errors.HTTPError`` in huggingface_hub >= 1.0; older versions
#: raise ``requests`` errors, which are ``OSError``s) or is off (``OfflineModeIsEnabled``).
HUB_ERRORS = (hub_errors.HfHubHTTPError, OSError, getattr(hub_errors, "HTTPError", OSError))


@dataclass(frozen=True)
class Upload:
    """One file of the commit: its path in the repository and its bytes."""

    path: str
    data: bytes

    def describe(self) -> str:
        return f"  {self.path}  {len(self.data):,} bytes  sha256 {fingerprint.digest(self.data)}"


@dataclass(frozen=True)
class UploadPlan:
    """The one commit ``push`` makes: ``files`` in upload order, ``rows`` in split train."""

    repo_id: str
    private: bool
    rows: int
    files: tuple[Upload, ...]

    def describe(self) -> str:
        visibility = f"private: {'yes' if self.private else 'no'}; an existing repository keeps its visibility"
        return "\n".join([
            f"repository: https://huggingface.co/datasets/{self.repo_id} ({visibility})",
            f"one commit, {len(self.files)} files, {self.rows} rows in split train:",
            *(upload.describe() for upload in self.files),
        ])

    def operations(self) -> list[CommitOperationAdd]:
        return [CommitOperationAdd(path_in_repo=upload.path, path_or_fileobj=upload.data) for upload in self.files]


def check_repo_id(repo_id: str) -> str:
    """Return ``repo_id`` if it has the form ORG/NAME, else raise PublishError naming it."""
    if not REPO_ID.fullmatch(repo_id) or ".." in repo_id or repo_id.endswith((".", "-")):
        raise PublishError(f"--repo-id {repo_id!r} is not of the form ORG/NAME (letters, digits, '-', '_', '.')")
    return repo_id


def _check_card(directory: Path, files: dict[str, bytes], rows: int) -> None:
    """The card's ``configs`` name only uploaded files, and the parquet file has the card's
    features and ``rows`` rows: the Hub will read the repository as the card declares."""
    card = DatasetCard(files["README.md"].decode("utf-8", "replace"))
    configs = MetadataConfigs.from_dataset_card_data(card.data)
    patterns = [f["path"] for config in configs.values() for f in config.get("data_files", []) if isinstance(f, dict)]
    if not patterns or any(not fnmatch.filter(fingerprint.UPLOADED, p) for p in patterns):
        raise DatasetFileError(f"{directory / 'README.md'}: the card's configs name data files {patterns}, "
                               f"not among the uploaded {', '.join(fingerprint.UPLOADED)}")
    table = parquet.read_table(directory / "data.parquet", files["data.parquet"])
    declared = DatasetInfosDict.from_dataset_card_data(card.data).get("default")
    found = datasets.Features.from_arrow_schema(table.schema)
    if declared is None or declared.features != found:
        raise DatasetFileError(f"{directory / 'data.parquet'}: its features are not the ones the card declares")
    if table.num_rows != rows:
        raise DatasetFileError(f"{directory / 'data.parquet'}: {table.num_rows} rows, fingerprint.json records {rows}")


def plan(directory: Path | str, repo_id: str, private: bool = False) -> UploadPlan:
    """Read and check ``directory`` for a commit to ``repo_id`` (see the module docstring); no network."""
    directory = Path(directory)
    check_repo_id(repo_id)
    files = fingerprint.read_files(directory)
    recorded = fingerprint.check(directory, files)
    _check_card(directory, files, recorded["rows"])
    return UploadPlan(repo_id, private, recorded["rows"], tuple(Upload(name, files[name]) for name in fingerprint.UPLOADED))


def _token() -> str:
    """The Hub token the commit will use; offline mode or no token is a PublishError saying what to do."""
    if hub_constants.HF_HUB_OFFLINE:
        raise PublishError("the Hugging Face Hub is switched off (HF_HUB_OFFLINE is set): unset it to publish, "
                           "or use --dry-run to see what would be uploaded")
    try:
        token = huggingface_hub.get_token()
    except HUB_ERRORS as err:
        raise PublishError(f"cannot get a Hugging Face token: {err}") from None
    if not token:
        raise PublishError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (a token with write access)")
    return token


def push(directory: Path | str, repo_id: str, private: bool = False, dry_run: bool = False,
         echo: Callable[[str], None] = print) -> UploadPlan:
    """Publish ``directory`` to the dataset repository ``repo_id`` in one commit (see the module
    docstring); return the plan. ``dry_run`` prints the plan and uploads nothing."""
    upload = plan(directory, repo_id, private)
    if dry_run:
        echo("dry run: nothing is uploaded\n" + upload.describe())
        return upload
    api = HfApi(token=_token())
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        commit = api.create_commit(repo_id=repo_id, repo_type="dataset", operations=upload.operations(),
                                   commit_message=f"Upload a kedit dataset ({upload.rows} rows, {len(upload.files)} files)")
    except HUB_ERRORS as err:
        raise PublishError(f"the Hub did not take the commit to datasets/{repo_id} "
                           f"({type(err).__name__}: {err}); nothing was committed") from None
    echo(f"pushed {upload.rows} rows in one commit: {commit.commit_url}")
    return upload
