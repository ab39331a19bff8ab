"""Other subjects' keys that an update keeps unchanged (``preserve_subjects``).

MEMIT's ridge ``λC`` keeps the keys of generic text (the second moment ``C`` over a corpus),
but an edit about one name still moves other names' facts: a neighbour prompt such as
"Kirsten Dunst's spouse is" shares the edit's relation and, at the subject's last token, much
of its key. Raising λ barely helps (it shrinks every edit alike). Instead the solve can keep
keys of *other subjects in the batch's own prompts*: each of ``count`` names, drawn from
kedit's built-in name list, takes the place of the subject of one of the batch's edit prompts
(round robin), and its key at every edited layer joins the solve with weight ``μ``:
``Δ = R Kᵀ (λC + μ K_p K_pᵀ + K Kᵀ)⁻¹``. The keys depend on the batch, not on μ, so a
context reads them once per batch (:meth:`kedit.methods.context.EditContext.other_subject_keys`).

The names are never the batch's subjects and never a name that one of the batch's scored
prompts (paraphrase, neighbourhood) contains, so no scored prompt is fitted to
(:mod:`kedit.experiment.leakage`). Keys are read on the model as the batch finds it: the
unedited one, or (sequential editing) the one earlier batches have edited.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

import torch

from kedit.data.subjects import load_names
from kedit.editing.keys import subject_states
from kedit.editing.requests import EditRequest


class PreserveError(ValueError):
    """``preserve_subjects`` asks for more names than the built-in list has outside the batch."""


def preserved_names(requests: Sequence[EditRequest], count: int, seed: int = 0) -> list[str]:
    """``count`` built-in names (seeded) that are no subject of ``requests`` and occur in none of their scored prompts."""
    scored = " ".join(p for r in requests for p, _ in r.scored_prompts())
    subjects = {r.subject for r in requests}
    names = [n for n in load_names("builtin") if n not in subjects and n not in scored]
    if len(names) < count:
        raise PreserveError(
            f"preserve_subjects: {count} names asked for but the built-in list offers {len(names)} outside this batch "
            "(its subjects and the names its scored prompts mention are left out); set a smaller preserve_subjects in the method's hparams, or 0"
        )
    return random.Random(f"kedit-preserve:{seed}").sample(names, count)


def swapped_requests(requests: Sequence[EditRequest], names: Sequence[str]) -> list[EditRequest]:
    """Name ``j`` in the prompt of request ``j mod len(requests)``: the batch's prompts about other subjects."""
    return [replace(requests[j % len(requests)], subject=name) for j, name in enumerate(names)]


def preserved_keys(loaded, requests: Sequence[EditRequest], layers: Sequence[int], templates: Sequence[str],
                   count: int, seed: int = 0) -> dict[int, torch.Tensor]:
    """Per edited layer, the keys (count, d_in) of ``count`` other subjects in the batch's prompts
    (see the module doc), averaged over ``templates``; the solve keeps them with weight μ."""
    others = swapped_requests(requests, preserved_names(requests, count, seed))
    states = subject_states(loaded, others, templates, {str(layer): (loaded.arch.mlp_out, layer, "input") for layer in layers})
    return {layer: states[str(layer)].mean(dim=1) for layer in layers}
