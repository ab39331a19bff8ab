"""The hooks on blocks that return ``(hidden_states, ...)`` instead of a tensor, as GPT-J's do
before transformers 5.2x (the tiny models of the installed transformers may not)."""

from __future__ import annotations

import torch
from torch import nn

from kedit.models.hooks import add_at, edit_output, record, replay_below, run_stopping


class TupleBlock(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.mlp = nn.Linear(d, d)

    def forward(self, hidden_states, **kwargs):
        return hidden_states + torch.tanh(self.mlp(hidden_states)), None


class TupleModel(nn.Module):
    """Reads ``block(h)[0]``, the way such models' forward loops do."""

    def __init__(self, d: int = 8, n: int = 4):
        super().__init__()
        torch.manual_seed(0)
        self.layers = nn.ModuleList(TupleBlock(d) for _ in range(n))

    def forward(self, h):
        for block in self.layers:
            h = block(h)[0]
        return h


def test_replaying_tuple_blocks_gives_the_same_forward():
    model, x = TupleModel(), torch.randn(2, 5, 8)
    top = model.layers[-1]
    with record({"in": (model.layers[2], "input"), "out": (top, "output")}) as full:
        model(x)
    assert isinstance(full["out"], torch.Tensor)  # the hidden state, not the tuple
    with replay_below(model.layers, 2, full["in"], as_tuple=True), record({"out": (top, "output")}, stop_at=top) as replayed:
        run_stopping(lambda: model(x))
    torch.testing.assert_close(replayed["out"], full["out"], rtol=0, atol=0)
    with replay_below(model.layers, 2, full["in"], as_tuple=False), record({"out": (top, "output")}, stop_at=top) as wrong:
        run_stopping(lambda: model(x))
    assert wrong["out"].shape != full["out"].shape  # h[0] of a bare tensor drops the batch: why as_tuple exists


def test_editing_a_tuple_blocks_output_changes_its_hidden_state():
    model, x = TupleModel(), torch.randn(2, 5, 8)
    delta = torch.randn(1, 8)
    with record({"h": (model.layers[1], "output")}) as plain:
        model(x)
    with edit_output(model.layers[1], add_at(torch.tensor([1]), torch.tensor([3]), delta)), record({"h": (model.layers[1], "output")}) as edited:
        model(x)
    expected = plain["h"].clone()
    expected[1, 3] += delta[0]
    torch.testing.assert_close(edited["h"], expected)
