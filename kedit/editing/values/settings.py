"""What the value optimiser is given and what it returns or raises."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


class NonFiniteError(ArithmeticError):
    """States or updates that overflowed (float16 does in some models' activations, e.g. Gemma's)."""

    @classmethod
    def in_model(cls, model) -> NonFiniteError:
        dtype = next(model.parameters()).dtype
        return cls(f"the model's hidden states are not finite in {dtype} (it overflows in that dtype); use bfloat16 or float32")


@dataclass(frozen=True)
class ValueSettings:
    """The value-optimisation hyper-parameters shared by MEMIT-family methods (EasyEdit's names)."""

    v_lr: float
    v_num_grad_steps: int
    v_weight_decay: float
    clamp_norm_factor: float  # each site's delta, relative to that site's initial value
    kl_factor: float
    early_stop_loss: float
    kl_prompt: str
    loss_layer: int | None  # None: the model's last layer
    early_stop_on: str = "loss"  # a key of kedit.editing.values.optimise.STOP_MEASURES


@dataclass
class ValueResult:
    """Per group: ``values[s]`` (G, d) target outputs of site ``s`` = ``init[s] + deltas[s]``."""

    values: list[torch.Tensor]
    init: list[torch.Tensor]
    deltas: list[torch.Tensor]
    steps: torch.Tensor  # (G,) optimisation steps taken (forward passes)
    loss: torch.Tensor  # (G,) last NLL per fact + KL + decay
    nll: torch.Tensor  # (G,) last mean NLL per fact

    def take(self, index: Sequence[int]) -> ValueResult:
        """The groups at ``index``, in that order."""
        on = lambda t: torch.as_tensor(list(index), dtype=torch.long, device=t.device)  # noqa: E731
        pick = lambda ts: [t[on(t)] for t in ts]  # noqa: E731
        return ValueResult(pick(self.values), pick(self.init), pick(self.deltas), self.steps[on(self.steps)], self.loss[on(self.loss)], self.nll[on(self.nll)])

    @staticmethod
    def concat(parts: Sequence[ValueResult]) -> ValueResult:
        """The groups of ``parts`` one after another."""
        sites = lambda name: [torch.cat(t) for t in zip(*(getattr(p, name) for p in parts))]  # noqa: E731
        return ValueResult(
            sites("values"), sites("init"), sites("deltas"), *(torch.cat([getattr(p, name) for p in parts]) for name in ("steps", "loss", "nll"))
        )
