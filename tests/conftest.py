"""Shared fixtures: a tiny byte-level BPE tokenizer, tiny random models of every supported
architecture, four edit requests and a statistics corpus. Plain helpers are in tests/tiny.py."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.tiny import SENTENCES, TINY, make_tiny


@pytest.fixture(scope="session")
def tokenizer():
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(SENTENCES, vocab_size=400, min_frequency=1, special_tokens=["<|endoftext|>"])
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    return tok


@pytest.fixture(params=sorted(TINY))
def tiny(request, tokenizer):
    """A tiny random model of each architecture (fresh per test, so edits never leak)."""
    return make_tiny(request.param, tokenizer)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tokenizer):
    """A tiny random llama saved with its tokenizer, for tests that load a model by path (CLI, specs)."""
    path = tmp_path_factory.mktemp("tiny-llama")
    loaded = make_tiny("llama", tokenizer)
    loaded.model.save_pretrained(path)
    loaded.tokenizer.save_pretrained(path)
    return path


@pytest.fixture
def raw_requests():
    return [
        dict(subject="Danielle Darrieux", prompt="{}'s mother tongue is", target_new="English", target_true="French",
             paraphrase_prompts=["The name of the mother tongue of Danielle Darrieux is"],
             neighborhood_prompts=[{"prompt": "Michel Rocard's mother tongue is", "target": "French"}]),
        dict(subject="John Smith", prompt="{}'s birthplace is", target_new="Tokyo",
             paraphrase_prompts=["The name of the birthplace of {} is"],
             neighborhood_prompts=[{"prompt": "Thomas Ong's birthplace is", "target": "Singapore"}]),
        dict(subject="John Smith", prompt="{}'s employer is", target_new="Google",
             paraphrase_prompts=["The name of the employer of John Smith is"],
             neighborhood_prompts=["The capital of France is"]),
        dict(subject="Alice Brown", prompt="The occupation of {} is", target_new="painter",
             neighborhood_prompts=[{"prompt": "Bob Jones's occupation is", "target": "actor"}]),
    ]


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    """The tiny sentences, three times over, as a statistics corpus (its cache under tmp_path)."""
    from kedit.stats.corpus import text_files

    monkeypatch.setenv("KEDIT_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "corpus.txt"
    path.write_text("\n\n".join(SENTENCES * 3))
    return text_files([str(path)])
