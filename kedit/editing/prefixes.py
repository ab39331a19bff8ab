"""Short model-generated prefixes that keys and target values are averaged over (as MEMIT does).

``["{}", "The quick ... . {}", ...]``: the bare prompt first, then one sampled prefix per
seed word. Sampling is seeded, so the same model, words, length and seed give the
same templates.
"""

from __future__ import annotations

import torch

from kedit.editing.values import NonFiniteError

SEED_WORDS = ("The", "Therefore", "Because", "I", "You")


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
        text = tok.decode(ids[0], skip_special_tokens=True)
        templates.append(text.replace("{", " ").replace("}", " ") + ". {}")
    return templates
