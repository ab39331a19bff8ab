"""Context prefixes: MEMIT's model-sampled ones and the corpus's opening tokens (``context_source``)."""

import pytest

from kedit.editing.prefixes import PREFIX_SOURCES, corpus_templates
from kedit.editing.requests import split_template
from kedit.methods.configs import CONTEXT_SOURCES
from kedit.stats.corpus import CorpusError
from tests.tiny import SENTENCES, ctx_for


def test_corpus_prefixes_are_opening_tokens_of_corpus_paragraphs(tokenizer):
    paragraphs = [f"{s} number {i}" for i, s in enumerate(SENTENCES * 3)]
    templates = corpus_templates(tokenizer, iter(paragraphs), n_tokens=4, count=3, seed=0)
    assert templates[0] == "{}" and len(templates) == 4
    for t in templates[1:]:
        head, tail = split_template(t)  # a subject template: one slot, at the end
        assert tail == "" and head.endswith(". ")
        assert len(tokenizer(head[:-2], add_special_tokens=False)["input_ids"]) <= 4
        assert any(p.startswith(head[:-2]) for p in paragraphs), head
    assert corpus_templates(tokenizer, iter(paragraphs), n_tokens=4, count=3, seed=0) == templates  # seeded
    assert corpus_templates(tokenizer, iter(paragraphs), n_tokens=4, count=3, seed=1) != templates
    assert corpus_templates(tokenizer, iter(paragraphs), n_tokens=0) == ["{}"]


def test_corpus_prefixes_blank_out_braces_and_need_enough_paragraphs(tokenizer):
    templates = corpus_templates(tokenizer, iter(["a {b} c d e f g h"]), n_tokens=20, count=1)
    assert split_template(templates[1])[0].count("{") == 0
    with pytest.raises(ValueError, match="holds 1 paragraphs; 2 context prefixes"):
        corpus_templates(tokenizer, iter(["one paragraph only"]), n_tokens=3, count=2)


def test_an_edit_context_keeps_each_source_apart(tokenizer, corpus):
    from tests.tiny import make_tiny

    ctx = ctx_for(make_tiny("llama", tokenizer), corpus)
    from_corpus, from_model = ctx.templates(3, "corpus"), ctx.templates(3, "model")
    assert from_corpus != from_model and ctx.templates(3) == from_model
    assert set(ctx.prefix_templates) == {("corpus", 3), ("model", 3)}
    corpus_text = "\n".join(corpus.texts())
    assert all(t[: -len(". {}")] in corpus_text for t in from_corpus[1:])


def test_every_source_a_spec_may_name_has_a_maker_and_corpus_prefixes_need_a_corpus(tokenizer):
    from tests.tiny import make_tiny

    assert set(CONTEXT_SOURCES) == set(PREFIX_SOURCES)
    with pytest.raises(CorpusError, match="context_source: corpus needs the statistics corpus"):
        ctx_for(make_tiny("llama", tokenizer), None).templates(3, "corpus")
