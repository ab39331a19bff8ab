"""Corpora: paragraphs read as documented, names resolved, and fingerprints that do not drift
(a corpus fingerprint is part of every statistics cache key, so a change recomputes them all)."""

from __future__ import annotations

import importlib.metadata
import itertools

import pytest

from kedit.stats.corpus import MIN_WORDS, CorpusError, get_corpus, text_files, wiki_to_paragraphs, wikipedia_sample


def _write(tmp_path, name="a.txt", text="One two three.\n\nFour  five\nsix.\n"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_text_files_yield_one_paragraph_per_blank_line_block_with_whitespace_collapsed(tmp_path):
    corpus = text_files([str(_write(tmp_path))])
    assert list(corpus.texts()) == ["One two three.", "Four five six."]
    assert corpus.name == "files:a.txt"
    assert list(corpus.texts()) == list(corpus.texts()), "a corpus can be read again"


def test_a_text_file_fingerprint_is_the_one_existing_caches_were_keyed_by(tmp_path):
    corpus = text_files([str(_write(tmp_path))])
    assert corpus.fingerprint == "5a65ecedf92a22d3bed6cb4aa20654e25e30527ba676d8257324f6b708f6f8e9"
    assert text_files([str(_write(tmp_path, "b.txt", "other text"))]).fingerprint != corpus.fingerprint


def test_a_missing_corpus_file_is_named(tmp_path):
    with pytest.raises(CorpusError, match="nope.txt does not exist"):
        text_files([str(tmp_path / "nope.txt")])


def test_get_corpus_reads_file_lists_paths_and_hf_names_and_refuses_anything_else(tmp_path):
    path = _write(tmp_path)
    assert get_corpus([str(path)]).fingerprint == get_corpus(str(path)).fingerprint == text_files([str(path)]).fingerprint
    hf = get_corpus("hf:wikitext:wikitext-103-raw-v1:train")  # opened lazily: nothing is downloaded here
    assert hf.name == "hf:wikitext:wikitext-103-raw-v1:train"
    assert hf.fingerprint == "7c076494ad6f45e26d29ee5ffde7fc6e4fc30e184d22e8032e77cc1c1bc2ca6b"
    with pytest.raises(CorpusError, match="unknown corpus 'wikipedia'.*wikipedia-sample"):
        get_corpus("wikipedia")


def test_wikitext_becomes_plain_paragraphs_without_templates_links_refs_headings_or_lists():
    markup = (
        "{{Infobox city|name=Paris}}\n"
        "'''Paris''' is the [[capital city|capital]] and largest city of [[France]], on the [[Seine]].<ref>Atlas, p. 3</ref>"
        " It has &amp; about two million people.<!-- check -->\n\n"
        "== History ==\n\nToo short here.\n\n[[Category:Cities]]\n"
        "* a list item that is long enough to count as a paragraph if it were one\n"
    )
    assert list(wiki_to_paragraphs(markup)) == ["Paris is the capital and largest city of France, on the Seine. It has & about two million people."]


def test_without_the_gensim_wheel_the_offline_corpus_says_how_to_install_it(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(CorpusError, match="pip install --no-deps gensim"):
        wikipedia_sample()


def test_the_offline_corpus_yields_wikipedia_paragraphs():
    try:
        importlib.metadata.distribution("gensim")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the gensim wheel (pip install --no-deps gensim) is not installed")
    corpus = get_corpus()
    first = list(itertools.islice(corpus.texts(), 20))
    assert corpus.name == "wikipedia-sample" and len(first) == 20
    assert all(len(p.split()) >= MIN_WORDS and "[[" not in p and "{{" not in p for p in first)
