"""Moving the residual stream through an MLP output, for blocks with and without a norm after the MLP.

Most blocks add the MLP output to the residual stream as is; post-norm blocks (Gemma 2/3)
add ``norm(mlp_out)``. :func:`mlp_change` turns a wanted move of the stream into a change of
the MLP output, :func:`stream_change` the other way round.
"""

from __future__ import annotations

import torch

from kedit.models.architecture import layer_module, norm_gain


def _normed(norm: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``norm(x)`` computed in the norm's dtype, returned float32 on ``x``'s device (the norm may sit on another)."""
    return norm(x.to(next(norm.parameters()).dtype)).float().to(x.device)


def stream_change(loaded, layer: int, before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
    """How far the residual stream moves (n, d) when layer ``layer``'s MLP output goes from ``before`` to ``after`` (n, d).

    ``after - before`` where the MLP output is added as is; in post-norm blocks (Gemma) the
    difference of the post-MLP norm's outputs, the inverse of :func:`mlp_change`.
    """
    arch = loaded.arch
    if arch.post_mlp_norm is None:
        return after - before
    norm = layer_module(loaded.model, arch, arch.post_mlp_norm, layer)
    with torch.no_grad():
        return _normed(norm, after) - _normed(norm, before)


def mlp_change(loaded, layer: int, mlp_out: torch.Tensor, wanted: torch.Tensor) -> torch.Tensor:
    """The change of layer ``layer``'s MLP output (n, d) that moves the residual stream by ``wanted`` (n, d).

    Where the MLP output is added as is, that is ``wanted`` itself. In post-norm blocks
    (Gemma) the output passes an RMS norm ``f(y) = g * y / rms(y)`` first, so ``f`` is
    inverted: the new unit-RMS direction ``u`` solves ``g * u ≈ f(y) + wanted`` by ridge
    regression towards the current direction (features whose gain ``g`` is ~0 cannot be
    reached and keep their value; Gemma's gains range from 0 to several hundred), and the
    new output keeps the current output's RMS.
    """
    arch = loaded.arch
    if arch.post_mlp_norm is None:
        return wanted
    norm = layer_module(loaded.model, arch, arch.post_mlp_norm, layer)
    rms = lambda x: x.pow(2).mean(-1, keepdim=True).sqrt()  # noqa: E731
    with torch.no_grad():
        y = mlp_out.float()
        gain = norm_gain(norm, y.shape[-1], torch.empty(0, dtype=next(norm.parameters()).dtype, device=y.device))
        target = _normed(norm, y) + wanted
        ridge = 1e-2 * gain.pow(2).mean()
        u = (gain * target + ridge * y / rms(y)) / (gain.pow(2) + ridge)
        return u * (rms(y) / rms(u)) - y
