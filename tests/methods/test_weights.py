"""kedit.methods.weights: applying an edit touches only its weights, restoring is bit-exact, a
non-finite update is refused; for every registered method on every tiny architecture."""

from __future__ import annotations

import pytest
import torch

from kedit.editing.requests import make_requests
from kedit.methods import apply_edit, get_method, restore
from kedit.models.architecture import get_module
from kedit.models.load import weights_fingerprint
from tests.tiny import METHOD_HP, ctx_for, tensor_bytes


@pytest.mark.parametrize("method", sorted(METHOD_HP))
def test_compute_leaves_the_model_unchanged_and_restore_is_bit_exact(tiny, raw_requests, corpus, method):
    """Computing an edit changes nothing; applying it touches only the MLP output
    projections of the edited layers (never attention, not even for PMET); restoring is bit-exact."""
    reqs = make_requests(raw_requests)
    ctx = ctx_for(tiny, corpus)
    hp = METHOD_HP[method]
    before = weights_fingerprint(tiny.model)
    edit = get_method(method).compute(ctx, reqs, get_method(method).parse(hp))
    assert weights_fingerprint(tiny.model) == before
    assert set(edit.updates) == {tiny.arch.mlp_out.format(layer) for layer in hp["layers"]}
    originals = apply_edit(tiny, edit)
    changed = {name for name, p in tiny.model.named_parameters() if tensor_bytes(p) != tensor_bytes(originals.get(name.removesuffix(".weight"), p))}
    assert changed == {path + ".weight" for path in edit.updates}
    restore(tiny, originals)
    assert weights_fingerprint(tiny.model) == before


def test_an_update_that_is_not_finite_is_refused_and_no_weight_changes(tiny):
    from kedit.editing.values import NonFiniteError
    from kedit.methods import Edit

    paths = [tiny.arch.mlp_out.format(layer) for layer in (1, 2)]
    before = {p: get_module(tiny.model, p).weight.detach().clone() for p in paths}
    shape = lambda p: before[p].T.shape if tiny.arch.conv1d else before[p].shape  # noqa: E731  (updates are (d_out, d_in))
    bad = Edit(updates={paths[0]: torch.ones(shape(paths[0])), paths[1]: torch.full(shape(paths[1]), float("nan"))}, info={})
    with pytest.raises(NonFiniteError, match=paths[1].replace(".", r"\.") + " is not finite"):
        apply_edit(tiny, bad)
    assert all(torch.equal(get_module(tiny.model, p).weight, w) for p, w in before.items())
