"""kedit.models.hooks: replaying the lower blocks gives the same forward and keeps the hooks
accelerate puts on blocks (tiny models of every architecture); and the hooks on blocks that
return ``(hidden_states, ...)`` instead of a tensor, as GPT-J's do before transformers 5.2x
(the tiny models of the installed transformers may not)."""

from __future__ import annotations

import torch
from torch import nn

from kedit.editing.requests import group_indices, make_requests
from kedit.editing.values import optimize_values
from kedit.methods import get_method
from kedit.models.architecture import get_module
from kedit.models.hooks import add_at, edit_output, record, replay_below, run_stopping
from tests.tiny import TINY_HP


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


def test_replaying_the_lower_blocks_gives_the_same_forward(tiny):
    ids = tiny.tokenizer(["John Smith's birthplace is Tokyo", "Alice Brown is"], padding=True, return_tensors="pt")
    blocks = get_module(tiny.model, tiny.arch.layers)
    top = blocks[len(blocks) - 1]
    with record({"in": (blocks[2], "input"), "out": (top, "output")}) as full:
        tiny.model(**ids)
    with replay_below(blocks, 2, full["in"], tiny.block_returns_tuple), record({"out": (top, "output")}, stop_at=top) as replayed:
        run_stopping(lambda: tiny.model(**ids))
    torch.testing.assert_close(replayed["out"], full["out"], rtol=0, atol=0)


def test_replaying_keeps_the_device_hooks_accelerate_puts_on_blocks(tiny, raw_requests):
    """Under ``device_map`` accelerate wraps each block's forward (moving inputs to the block's
    device); value optimisation replays the lower blocks and must leave those wrappers in place."""
    from accelerate.hooks import ModelHook, add_hook_to_module

    class Counting(ModelHook):
        calls = 0

        def pre_forward(self, module, *args, **kwargs):
            Counting.calls += 1
            return args, kwargs

    blocks = get_module(tiny.model, tiny.arch.layers, tiny.arch.model_type)
    for block in blocks:
        add_hook_to_module(block, Counting())
    reqs = make_requests(raw_requests)
    cfg = get_method("MEMIT").parse(TINY_HP)
    optimize_values(tiny, reqs, group_indices(reqs, None), 2, ["{}"], cfg.value_settings())
    Counting.calls = 0
    with torch.no_grad():
        tiny.model(input_ids=torch.tensor([[1, 2, 3]]))
    assert Counting.calls == len(blocks)
