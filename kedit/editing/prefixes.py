"""Short prefixes that keys and target values are averaged over (as MEMIT does).

``["{}", "The quick ... . {}", ...]``: the bare prompt first, then one prefix per source
text. Two sources (:data:`PREFIX_SOURCES`, a method's ``context_source``): ``model``,
MEMIT's, samples a continuation of each seed word from the model; ``corpus`` takes the
opening tokens of paragraphs of the statistics corpus, real text where a small model's
samples are noise. Both are seeded, so the same model, corpus, length and seed give the
same templates.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from itertools import islice

import torch

from kedit.editing.values import NonFiniteError
from kedit.stats.corpus import CorpusError

SEED_WORDS = ("The", "Therefore", "Because", "I", "You")
CORPUS_POOL = 1000  # paragraphs read from the corpus's start to draw prefixes from


@torch.no_grad()
def context_templates(loaded, n_tokens: int = 10, words: tuple[str, ...] = SEED_WORDS, seed: int = 0, top_k: int = 5) -> list[str]:
    """``["{}"] + [generated + ". {}" for each seed word]``; ``n_tokens=0`` gives just ``["{}"]``."""
    templates = ["{}"]
    if n_tokens <= 0:
        return templates
    tok, model = loaded.tokenizer, loaded.model
    generator = torch.Generator(device="cpu").manual_seed(seed)
    for word in words:
        ids = tok(word, return_tensors="pt")["input_ids"].to(loaded.device)
        for _ in range(n_tokens - 1):
            logits = model(input_ids=ids).logits[0, -1].float().cpu()
            if not torch.isfinite(logits).all():
                raise NonFiniteError.in_model(model)
            top = torch.topk(logits, top_k)
            choice = torch.multinomial(torch.softmax(top.values, -1), 1, generator=generator)
            ids = torch.cat([ids, top.indices[choice].view(1, 1).to(ids.device)], dim=1)
        templates.append(_prefix_template(tok.decode(ids[0], skip_special_tokens=True)))
    return templates


def corpus_templates(tok, texts, n_tokens: int = 10, count: int = len(SEED_WORDS), seed: int = 0) -> list[str]:
    """``["{}"] + [the first n_tokens tokens of a paragraph + ". {}"]`` for ``count`` paragraphs
    drawn (seeded) from the first :data:`CORPUS_POOL` of ``texts``; ``n_tokens=0``: ``["{}"]``."""
    if n_tokens <= 0:
        return ["{}"]
    pool = list(islice(texts, CORPUS_POOL))
    if len(pool) < count:
        raise CorpusError(f"the corpus holds {len(pool)} paragraphs; {count} context prefixes need as many (context_source: corpus)")
    picked = random.Random(f"kedit-prefixes:{seed}").sample(pool, count)
    return ["{}"] + [_prefix_template(tok.decode(tok(p, add_special_tokens=False)["input_ids"][:n_tokens])) for p in picked]


def _prefix_template(text: str) -> str:
    """``text`` as a prefix of a subject template: braces blanked out, then ". {}"."""
    return text.strip().replace("{", " ").replace("}", " ") + ". {}"


def _from_corpus(ctx, n_tokens: int) -> list[str]:
    corpus = ctx.stats_settings.corpus if ctx.stats_settings is not None else None
    if corpus is None:
        raise CorpusError("context_source: corpus needs the statistics corpus, and this edit context has none")
    return corpus_templates(ctx.loaded.tokenizer, corpus.texts(), n_tokens=n_tokens, seed=ctx.seed)


# source -> (edit context, n_tokens) -> templates; an edit context has .loaded, .seed, .stats_settings
PREFIX_SOURCES: dict[str, Callable[..., list[str]]] = {
    "model": lambda ctx, n: context_templates(ctx.loaded, n_tokens=n, seed=ctx.seed),
    "corpus": _from_corpus,
}
