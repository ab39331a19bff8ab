"""Fixtures of the editing tests: two tiny architectures that differ where the value
optimiser cares (GPT-2: Conv1D, learned positions; Llama: rotary positions, grouped KV),
and value settings that run in a fraction of a second."""

from __future__ import annotations

import pytest

from kedit.editing.requests import make_requests
from kedit.editing.values import ValueSettings
from tests.tiny import make_tiny


@pytest.fixture(params=["gpt2", "llama"])
def small(request, tokenizer):
    return make_tiny(request.param, tokenizer)


@pytest.fixture
def reqs(raw_requests):
    """Four facts; the second and third share their subject."""
    return make_requests(raw_requests)


@pytest.fixture
def settings():
    return ValueSettings(
        v_lr=0.5, v_num_grad_steps=6, v_weight_decay=1e-3, clamp_norm_factor=4.0, kl_factor=0.0625, early_stop_loss=0.0, kl_prompt="{} is a", loss_layer=None
    )
