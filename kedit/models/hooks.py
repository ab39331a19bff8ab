"""Forward hooks the engine needs: read a module's input/output, add to its output, stop early,
and replay the frozen layers below an edit from a cached state.

Every helper is a context manager that removes what it installed, so the model is the
same object before and after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager

import torch
from torch import nn


class StopForward(Exception):
    """Raised by a hook once everything needed has been read."""


def first(output):
    """A module's main output: the tensor itself, or the first element of a tuple (some
    architectures' blocks return ``(hidden_states, ...)``)."""
    return output[0] if isinstance(output, tuple) else output


@contextmanager
def record(reads: Mapping[str, tuple[nn.Module, str]], stop_at: nn.Module | None = None) -> Iterator[dict]:
    """Record, per name, a module's first positional input (``"input"``) or its output (``"output"``;
    of a block that returns a tuple, its first element: the hidden state).

    The dict yielded fills in during the forward pass. With ``stop_at`` the pass is
    cut short after that module runs (wrap the pass in :func:`run_stopping`).
    """
    seen: dict[str, torch.Tensor] = {}

    def make(name, what):
        def hook(module, args, output):
            seen[name] = args[0] if what == "input" else first(output)

        return hook

    def stop(module, args, output):
        raise StopForward

    with ExitStack() as stack:
        for name, (module, what) in reads.items():
            stack.callback(module.register_forward_hook(make(name, what)).remove)
        if stop_at is not None:  # registered last, so it runs after the readers of the same module
            stack.callback(stop_at.register_forward_hook(stop).remove)
        yield seen


def run_stopping(fn: Callable[[], object]) -> None:
    """Call ``fn`` (a forward pass) and swallow the :class:`StopForward` that ends it early."""
    try:
        fn()
    except StopForward:
        pass


@contextmanager
def edit_output(module: nn.Module, fn: Callable[[torch.Tensor], torch.Tensor]) -> Iterator[None]:
    """Replace ``module``'s output ``y`` (of a tuple, its first element) by ``fn(y)`` during the context."""

    def hook(module, args, out):
        return (fn(out[0]), *out[1:]) if isinstance(out, tuple) else fn(out)

    handle = module.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def add_at(rows: torch.Tensor, pos: torch.Tensor, delta: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """An output editor adding ``delta[i]`` at ``(rows[i], pos[i])`` of a ``(B, T, d)`` output; delta: (n, d)."""

    def fn(out: torch.Tensor) -> torch.Tensor:
        out = out.clone()
        r, p = rows.to(out.device), pos.to(out.device)  # modules may sit on different devices (device_map)
        out[r, p] = out[r, p] + delta.to(out.device, out.dtype)
        return out

    return fn


def gather_at(t: torch.Tensor, rows: torch.Tensor, pos: torch.Tensor, device) -> torch.Tensor:
    """``t[rows, pos]`` of a (B, T, d) state that may sit on another device, returned on ``device``: (n, d)."""
    return t[rows.to(t.device), pos.to(t.device)].to(device)


@contextmanager
def replay_below(layers: nn.ModuleList, layer: int, hidden_in: torch.Tensor, as_tuple: bool = False) -> Iterator[None]:
    """Skip the decoder blocks below ``layer``: they pass their input through and the block
    just below ``layer`` returns ``hidden_in``, the (B, T, d) state recorded at ``layer``'s input.
    ``as_tuple``: the blocks return ``(hidden_states, ...)`` (see ``LoadedModel.block_returns_tuple``).

    Sound whenever nothing below ``layer`` depends on what is being optimised. A block's own
    ``forward`` attribute (accelerate's device hooks under ``device_map`` live there) is put
    back afterwards.
    """
    if layer == 0:
        yield
        return

    wrap = (lambda h: (h,)) if as_tuple else (lambda h: h)  # noqa: E731

    def passthrough(hidden_states, *args, **kwargs):
        return wrap(hidden_states)

    def cached(hidden_states, *args, **kwargs):
        return wrap(hidden_in)

    own = [vars(layers[i]).get("forward") for i in range(layer)]
    try:
        for i in range(layer):
            layers[i].forward = cached if i == layer - 1 else passthrough
        yield
    finally:
        for i in range(layer):
            if own[i] is None:
                del layers[i].forward  # back to the class's forward
            else:
                layers[i].forward = own[i]
