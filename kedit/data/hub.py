"""Publish a dataset directory (written by :mod:`kedit.data.store`) to the Hugging Face Hub.

``push`` loads the directory with ``datasets.load_dataset`` (which also checks that it
loads), then ``DatasetDict.push_to_hub`` uploads the rows (as
``data/train-00000-of-00001.parquet``), and one commit adds the kedit card (its front matter
pointing at ``data/train-*``), ``spec.yaml``, ``fingerprint.json`` and ``provenance.json``,
which ``push_to_hub`` does not carry. The token comes from the usual place (``HF_TOKEN`` or
``huggingface-cli login``). ``dry_run`` prints exactly that plan and uploads nothing.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import datasets
import yaml
from huggingface_hub import CommitOperationAdd, HfApi

from kedit.data.card import render_card
from kedit.data.errors import DataError, DatasetPathError

REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
DATA_FILES = "data/train-*"  # where push_to_hub puts split "train" of config "default"
EXTRA_FILES = ("spec.yaml", "fingerprint.json", "provenance.json")


@dataclass
class UploadPlan:
    repo_id: str
    private: bool
    rows: int
    features: dict[str, str]
    files: list[tuple[str, str]]  # (path in the repository, what it is)

    def describe(self) -> str:
        lines = [
            f"repository: https://huggingface.co/datasets/{self.repo_id} (private: {'yes' if self.private else 'no'})",
            f"rows: {self.rows} (split train)",
            "features:",
            *(f"  {name}: {feature}" for name, feature in self.features.items()),
            "files:",
            *(f"  {path}  ({what})" for path, what in self.files),
        ]
        return "\n".join(lines)


def check_repo_id(repo_id: str) -> str:
    """Return ``repo_id`` if it has the form ORG/NAME, else raise DataError naming it."""
    if not REPO_ID.fullmatch(repo_id) or ".." in repo_id or repo_id.endswith((".", "-")):
        raise DataError(f"--repo-id {repo_id!r} is not of the form ORG/NAME (letters, digits, '-', '_', '.')")
    return repo_id


def _plan(directory: Path, repo_id: str, private: bool, data: datasets.DatasetDict) -> UploadPlan:
    train = data["train"]
    files = [("data/train-00000-of-00001.parquet", f"{train.num_rows} rows, written by datasets push_to_hub"),
             ("README.md", f"dataset card from {directory}, configs -> {DATA_FILES}")]
    files += [(name, f"copied from {directory / name}") for name in EXTRA_FILES]
    features = {name: str(feature) for name, feature in train.features.items()}
    return UploadPlan(repo_id, private, train.num_rows, features, files)


def push(directory: Path | str, repo_id: str, private: bool = False, dry_run: bool = False,
         echo: Callable[[str], None] = print) -> UploadPlan:
    """Upload ``directory`` to the dataset repository ``repo_id`` (see the module docstring)."""
    directory = Path(directory)
    check_repo_id(repo_id)
    missing = [name for name in ("README.md", *EXTRA_FILES) if not (directory / name).is_file()]
    if missing:
        raise DatasetPathError(f"{directory} is not a kedit dataset directory: missing {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="kedit-push-") as cache:
        data = datasets.load_dataset(str(directory), cache_dir=cache)
        if "train" not in data:
            raise DataError(f"{directory}: no 'train' split (found {sorted(data)})")
        plan = _plan(directory, repo_id, private, data)
        if dry_run:
            echo("dry run: nothing is uploaded\n" + plan.describe())
            return plan
        spec = yaml.safe_load((directory / "spec.yaml").read_text(encoding="utf-8"))["dataset"]["wikidata"]
        counts = json.loads((directory / "provenance.json").read_text(encoding="utf-8"))["counts"]
        card = render_card(spec, counts, data["train"].to_list(), data_file=DATA_FILES)
        data.push_to_hub(repo_id, private=private, commit_message="Upload rows (kedit data push)")
        HfApi().create_commit(
            repo_id=repo_id,
            repo_type="dataset",
            operations=[CommitOperationAdd("README.md", card.encode("utf-8"))]
            + [CommitOperationAdd(name, str(directory / name)) for name in EXTRA_FILES],
            commit_message="Add the kedit dataset card, spec, fingerprint and provenance",
        )
        echo(f"pushed {plan.rows} rows to https://huggingface.co/datasets/{repo_id}")
        return plan
