"""Weights of modules that accelerate offloads.

Under ``device_map`` a model too large for its devices has some modules offloaded: their
parameters sit on the ``meta`` device between forwards and accelerate's hook copies them in
from a ``weights_map`` (CPU tensors, or files on disk) for each forward. An edit must change
that stored copy, or the next forward loads the unedited weight back.
"""

from __future__ import annotations

import torch
from torch import nn


class OffloadError(RuntimeError):
    """A weight kedit must change but cannot reach (offloaded to disk)."""


def _hooks(module: nn.Module) -> list:
    hook = getattr(module, "_hf_hook", None)
    return [] if hook is None else list(getattr(hook, "hooks", [hook]))  # a SequentialHook holds several


def input_device(model: nn.Module) -> torch.device:
    """Where inputs go: the first parameter's device, or, when accelerate offloads that
    parameter's module, the device the module runs on."""
    name, p = next(iter(model.named_parameters()))
    if p.device.type != "meta":
        return p.device
    owner = model.get_submodule(name.rpartition(".")[0])
    devices = [h.execution_device for h in _hooks(owner) if getattr(h, "execution_device", None) is not None]
    if not devices:
        raise OffloadError(f"{name} is on the meta device and no accelerate hook says where it runs")
    return torch.device(devices[0])


def offloaded_copy(module: nn.Module, name: str) -> torch.Tensor | None:
    """The tensor accelerate loads ``module.<name>`` from, or None if the module is not offloaded."""
    for h in _hooks(module):
        weights = getattr(h, "weights_map", None)
        if getattr(h, "offload", False) and weights is not None:
            return weights[name]
    return None


def readable(module: nn.Module, name: str) -> torch.Tensor:
    """``module.<name>`` with its values, wherever they are stored."""
    t = getattr(module, name)
    return t if t.device.type != "meta" else offloaded_copy(module, name)


def writable(module: nn.Module, name: str, where: str) -> torch.Tensor:
    """The tensor to change in place so that ``module.<name>`` changes: the parameter itself,
    or the CPU copy an offloaded module is loaded from. ``where`` names the module in errors."""
    t = getattr(module, name)
    if t.device.type != "meta":
        return t
    copy = offloaded_copy(module, name)
    if copy is None or copy is not offloaded_copy(module, name):  # disk offload reads a fresh copy on every access
        raise OffloadError(
            f"{where}.{name} is offloaded to disk (or not reachable), so an edit to it would be lost: "
            "give that module a GPU or the CPU in device_map (max_memory), or edit other layers"
        )
    return copy
