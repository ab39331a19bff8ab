"""The data phase of `kedit run` on an empty cache: a Wikidata dataset that kedit ships already
built is read from its directory, not built from the snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from kedit.data.reuse import ENV, READ_FROM
from kedit.experiment.data import materialise

ROOT = Path(__file__).resolve().parents[2]


def test_the_main_jobs_dataset_is_read_from_the_shipped_directory(tmp_path, monkeypatch):
    cache = tmp_path / "empty-cache"
    monkeypatch.setenv("KEDIT_CACHE", str(cache))
    monkeypatch.delenv(ENV, raising=False)
    cfg = yaml.safe_load((ROOT / "specs" / "presets" / "same_subject_data.yaml").read_text())["datasets"]["same_subject"]
    dataset = materialise("same_subject", cfg, ROOT / "specs")
    shipped = ROOT / "datasets" / "same_subject"
    assert dataset.provenance[READ_FROM] == str(shipped.resolve())
    assert dataset.fingerprint == json.loads((shipped / "fingerprint.json").read_text())["rows_sha256"]
    assert len(dataset.requests) == 100 and dataset.provenance["conflicts"]
    assert not (cache / "sparql").exists()  # no query ran: the snapshot was never loaded
