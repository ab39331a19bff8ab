"""Second-moment files as shareable artifacts: export to a folder / the Hugging Face Hub, import back.

A statistics repository is a Hub *dataset* repo holding the cached ``.pt`` files (each
carries its own key: model fingerprint, module, corpus fingerprint, sample count, length,
dtype, precision) and a card that lists them. Importing refuses a file whose model fingerprint is
not the loaded model's: statistics of other weights would silently give wrong edits.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import torch

from kedit import __version__
from kedit.stats.moments import NO_CHECKSUM, StatsKey, cache_path, content_problem, model_folder
from kedit.util import atomic_path, write_atomic

REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


class StatsShareError(ValueError):
    """A statistics file or repository that cannot be shared or used; the message says which."""


def _read_key(path: Path) -> StatsKey:
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        key = StatsKey(**blob["key"])
    except Exception as e:
        raise StatsShareError(f"{path} is not a kedit statistics file ({e})") from None
    problem = content_problem(blob)
    if problem not in (None, NO_CHECKSUM):  # a file from before checksums is checked when loaded
        raise StatsShareError(f"{path}: {problem}; refusing it")
    return key


def _copy_atomic(source: Path, target: Path) -> None:
    """Copy a file so that a reader of ``target`` never sees half of it (see :func:`kedit.util.atomic_path`)."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def cached_files(model_fingerprint: str, root: Path | None = None) -> list[Path]:
    """Every cached statistics file of one model."""
    folder = model_folder(model_fingerprint, root)
    return sorted(folder.glob("*.pt")) if folder.exists() else []


def card(keys: list[StatsKey], model_name: str) -> str:
    """The README.md of a statistics repository: Hub metadata, the model fingerprints, one row per file."""
    rows = "\n".join(f"| `{k.module}` | {k.n_samples} | {k.max_length} | {k.dtype} | {k.precision} | `{k.corpus_fingerprint[:16]}` |" for k in keys)
    fingerprints = sorted({k.model_fingerprint for k in keys})
    meta = {"license": "cc-by-sa-4.0", "tags": ["kedit", "memit", "knowledge-editing", "second-moment-statistics"], "pretty_name": f"kedit statistics for {model_name}"}
    front = "\n".join(f"{k}: {json.dumps(v)}" for k, v in meta.items())
    return f"""---
{front}
---

# Second-moment statistics for {model_name}

`E[k kᵀ]` of the MLP output projection's input (MEMIT's keys), written by kedit {__version__}.
Import with `kedit stats pull REPO --model {model_name}`; kedit refuses the files for any model
whose weight fingerprint differs from:

{chr(10).join(f"- `{fp}`" for fp in fingerprints)}

| module | windows | tokens per window | dtype | precision | corpus fingerprint |
|---|---|---|---|---|---|
{rows}

The default corpus (`wikipedia-sample`) is English Wikipedia text (CC BY-SA), hence the license.
"""


def export(files: list[Path], model_name: str, out: Path) -> list[StatsKey]:
    """Copy statistics files and a card (README.md) into ``out``, ready for upload."""
    if not files:
        raise StatsShareError("no statistics files to export: compute them first with `kedit stats compute`")
    keys = [_read_key(f) for f in files]
    for f in files:
        _copy_atomic(f, out / f.name)
    write_atomic(out / "README.md", card(keys, model_name))
    return keys


def push(folder: Path, repo_id: str, private: bool = False, dry_run: bool = False, echo=print) -> None:
    """Upload the files of ``folder`` (made by :func:`export`) to the Hub dataset repo ``repo_id``."""
    if not REPO_ID.match(repo_id):
        raise StatsShareError(f"repo id {repo_id!r} is not of the form ORG/NAME")
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    echo(f"{'would upload' if dry_run else 'uploading'} to dataset repo {repo_id} ({'private' if private else 'public'}): " + ", ".join(files))
    if dry_run:
        return
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset", commit_message=f"kedit {__version__} statistics")


def import_files(folder: Path, model_fingerprint: str, root: Path | None = None) -> list[Path]:
    """Copy the statistics files of ``folder`` into the cache, refusing any made for other weights."""
    files = sorted(folder.glob("*.pt"))
    if not files:
        raise StatsShareError(f"{folder} holds no statistics files")
    placed = []
    for f in files:
        key = _read_key(f)
        if key.model_fingerprint != model_fingerprint:
            raise StatsShareError(
                f"{f.name} was computed for model weights {key.model_fingerprint[:16]}…, not for the loaded model "
                f"({model_fingerprint[:16]}…); refusing it (statistics of other weights give wrong edits)"
            )
        target = cache_path(key, root)
        _copy_atomic(f, target)
        placed.append(target)
    return placed


def pull(repo_id: str, model_fingerprint: str, root: Path | None = None) -> list[Path]:
    """Download a Hub statistics repo and :func:`import_files` it; returns the cache paths written."""
    if not REPO_ID.match(repo_id):
        raise StatsShareError(f"repo id {repo_id!r} is not of the form ORG/NAME")
    from huggingface_hub import snapshot_download

    try:
        folder = Path(snapshot_download(repo_id, repo_type="dataset", allow_patterns=["*.pt", "README.md"]))
    except Exception as e:  # offline, missing repo, auth: the hub raises many types
        raise StatsShareError(f"cannot download {repo_id}: {e}") from None
    return import_files(folder, model_fingerprint, root)
