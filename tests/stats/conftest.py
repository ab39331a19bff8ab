"""A statistics corpus on disk: the tiny sentences, four times over, one paragraph each."""

from __future__ import annotations

import pytest

from tests.tiny import SENTENCES


@pytest.fixture
def corpus_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n\n".join(SENTENCES * 4))
    return path
