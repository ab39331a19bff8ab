"""Second moments of keys, ``C = E[k kᵀ]`` over a text corpus, cached on disk.

The corpus is packed into windows of ``max_length`` tokens; one pass reads the keys of
every requested layer (the forward stops after the deepest one, run and multiplied in the
pass's precision, :mod:`kedit.stats.precision`) and accumulates ``Σ k kᵀ`` in float64. A
result is cached per layer under a key of (model fingerprint, module path, corpus
fingerprint, sample count, max length, dtype, precision) and written atomically
with a content checksum (``sha256`` in the file, over key, moment and count) and checked on
load: an unreadable, altered or non-finite cache file is reported and recomputed, never used.

A pass for more windows than a cached file of the same key holds starts from that file's sums
and reads only the windows after them (the windows are the corpus's, in order, so they are the
same windows): raising ``n_samples`` costs only the difference. The result equals a fresh pass
up to float rounding (the cached mean is float32 and the batches fall differently): SmolLM2-135M,
500 -> 1000 windows in bfloat16, 1.4-2.9e-4 relative (Frobenius) from a fresh pass, against
2.4-3.9e-3 between bfloat16 and float32 passes; the main job's metrics identical.

A file written before checksums existed is trusted once if its moment is finite, symmetric
and has a non-negative diagonal (what an altered or damaged ``E[k kᵀ]`` rarely keeps), and is
upgraded in place: recomputing would cost every user of a shared cache minutes to hours per
model, and the files others published on the Hub carry no checksum either.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from tqdm.auto import tqdm

from kedit.models.architecture import layer_module
from kedit.models.hooks import record, run_stopping
from kedit.paths import cache_dir
from kedit.stats.corpus import Corpus
from kedit.stats.precision import PRECISIONS, Precision, resolve
from kedit.editing.values import NonFiniteError
from kedit.util import WriteError, atomic_path, canonical_json, sha256

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatsKey:
    """What one cached second moment was computed from; every field enters its file name's digest."""

    model_fingerprint: str  # hex fingerprint of the weights (LoadedModel.fingerprint)
    module: str  # e.g. "model.layers.4.mlp.down_proj"
    corpus_fingerprint: str
    n_samples: int  # windows of max_length tokens
    max_length: int
    dtype: str  # dtype the model ran in
    precision: str = "float32"  # the pass's precision, a key of kedit.stats.precision.PRECISIONS (never "auto")

    def to_dict(self) -> dict:
        """The key as stored in its file and hashed into its name: every field, except a
        ``float32`` precision, which is left out so that files written before precisions
        existed (all float32) keep their names and keys; any other precision is in both."""
        out = asdict(self)
        if out["precision"] == "float32":
            del out["precision"]
        return out

    def digest(self) -> str:
        """32 hex characters naming this key in the cache.

        Deliberately not :func:`kedit.util.sha256`: that hashes compact, non-ASCII-escaped JSON,
        while cache files already on disk (``~/.cache/kedit/stats``) are named by the SHA-256 of
        ``json.dumps(..., sort_keys=True)`` with its default separators and ASCII escaping.
        Keep this bit-identical, or every existing cache is silently recomputed.
        """
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class SecondMoment:
    """``moment``: (d_in, d_in) float32 mean of k kᵀ over ``count`` token positions."""

    moment: torch.Tensor
    count: int
    key: StatsKey


def windows(tok, corpus: Corpus, max_length: int) -> Iterator[list[int]]:
    """Token windows of exactly ``max_length`` (the last may be shorter), paragraphs joined by newlines."""
    buf: list[int] = []
    for text in corpus.texts():
        buf.extend(tok(text + "\n", add_special_tokens=False)["input_ids"])
        while len(buf) >= max_length:
            yield buf[:max_length]
            buf = buf[max_length:]
    if buf:
        yield buf


def model_folder(model_fingerprint: str, root: Path | None = None) -> Path:
    """The folder of every cached statistics file of one model: ``ROOT/<fingerprint[:16]>``,
    ``ROOT`` being ``root`` or ``$KEDIT_CACHE/stats``."""
    return (root or cache_dir() / "stats") / model_fingerprint[:16]


def cache_path(key: StatsKey, root: Path | None = None) -> Path:
    """Where the second moment of ``key`` is cached: ``model_folder(...)/<module>-<digest>.pt``."""
    return model_folder(key.model_fingerprint, root) / f"{key.module}-{key.digest()}.pt"


def checksum(blob: dict) -> str:
    """SHA-256 of a cache file's content: every field but ``sha256`` itself, tensors by dtype,
    shape and bytes, dicts in key order, anything else as canonical JSON."""
    h = hashlib.sha256()

    def feed(value) -> None:
        if isinstance(value, torch.Tensor):
            t = value.detach().cpu().contiguous().reshape(-1)
            h.update(f"tensor:{t.dtype}:{tuple(value.shape)}:".encode())
            h.update(t.view(torch.uint8).numpy())
        elif isinstance(value, dict):
            for k in sorted(value, key=str):
                h.update(f"{k!r}=".encode())
                feed(value[k])
        else:
            h.update(canonical_json(value).encode())

    feed({k: v for k, v in blob.items() if k != "sha256"})
    return h.hexdigest()


NO_CHECKSUM = "no checksum"


def content_problem(blob: dict) -> str | None:
    """Why a loaded cache file's content cannot be trusted, or None; :data:`NO_CHECKSUM` for
    files written before checksums existed."""
    if "sha256" not in blob:
        return NO_CHECKSUM
    return None if blob["sha256"] == checksum(blob) else "its content does not match its checksum (altered or damaged)"


def _plausible(moment: torch.Tensor, count: int) -> str | None:
    """What rules a moment out as some ``E[k kᵀ]``: non-finite, asymmetric, a negative diagonal."""
    if not torch.isfinite(moment).all():
        return "its moment is not finite"
    if count <= 0 or moment.ndim != 2 or moment.shape[0] != moment.shape[1]:
        return f"a {tuple(moment.shape)} moment over {count} tokens is no second moment"
    scale = float(moment.abs().max()) or 1.0
    if float((moment - moment.T).abs().max()) > 1e-4 * scale or bool((moment.diagonal() < 0).any()):
        return "its moment is not symmetric with a non-negative diagonal"
    return None


def _load(path: Path, key: StatsKey) -> SecondMoment | None:
    if not path.exists():
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        if blob["key"] != key.to_dict():
            raise ValueError("its key does not match")
        stat = SecondMoment(moment=blob["moment"], count=int(blob["count"]), key=key)
        problem = content_problem(blob)
        if problem is None and not torch.isfinite(stat.moment).all():
            problem = "its moment is not finite"
        if problem == NO_CHECKSUM:
            if (problem := _plausible(stat.moment, stat.count)) is None:
                log.info("statistics cache %s predates checksums; its moment is finite and symmetric: keeping it and adding one", path)
                _save(path, stat)
        if problem is not None:
            raise ValueError(problem)
        return stat
    except Exception as e:  # a truncated, altered or foreign file: recompute rather than fail or use it
        log.warning("statistics cache %s is unusable (%s); recomputing it", path, e)
        return None


def _save(path: Path, stat: SecondMoment) -> None:
    _save_torch(path, {"key": stat.key.to_dict(), "moment": stat.moment, "count": stat.count})


def _sum_over_ranks(t: torch.Tensor) -> torch.Tensor:
    """A CPU tensor summed over the ranks, returned on the CPU; NCCL reduces GPU tensors only,
    so there it travels through this rank's GPU."""
    import torch.distributed as dist

    if dist.get_backend() == "nccl":
        t = t.to(torch.device("cuda", torch.cuda.current_device()))
    dist.all_reduce(t)
    return t.cpu()


def _world() -> tuple[int, int]:
    """(rank, world size) of the torch.distributed group, (0, 1) when not distributed."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


@dataclass
class Partial:
    """Running sums of one rank: ``sums[layer]`` is Σ k kᵀ, (d_in, d_in) float64 on the CPU,
    over ``count`` token positions; ``next_window`` is the first corpus window not yet covered."""

    sums: dict[int, torch.Tensor]
    count: int
    next_window: int


def _load_partial(path: Path | None, layers: Sequence[int]) -> Partial | None:
    if path is None or not path.exists():
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        if (problem := content_problem(blob)) is not None:
            raise ValueError(problem)
        if sorted(blob["sums"]) != sorted(layers):
            raise ValueError("it holds other layers")
        log.info("resuming second moments from %s (%d windows done)", path, blob["next_window"])
        return Partial(sums=blob["sums"], count=int(blob["count"]), next_window=int(blob["next_window"]))
    except Exception as e:  # a damaged checkpoint only costs the work it held
        log.warning("partial statistics %s are unusable (%s); starting over", path, e)
        return None


def _smaller_counts(key: StatsKey, root: Path | None) -> dict[int, Path]:
    """Cached files of ``key`` but for a smaller ``n_samples``, by that count (their content unchecked)."""
    wanted = {k: v for k, v in key.to_dict().items() if k != "n_samples"}
    found = {}
    for path in model_folder(key.model_fingerprint, root).glob(f"{key.module}-*.pt"):
        try:
            stored = torch.load(path, map_location="cpu", weights_only=True, mmap=True)["key"]  # the key only: the moment stays on disk
            n = int(stored["n_samples"])
        except Exception as e:  # unreadable or foreign: not a start (torch.load raises many types)
            log.debug("%s is no start for more windows (%s)", path, e)
            continue
        if n < key.n_samples and {k: v for k, v in stored.items() if k != "n_samples"} == wanted:
            found[n] = path
    return found


def continued_from(keys: dict[int, StatsKey], root: Path | None = None) -> Partial | None:
    """The sums of the largest smaller window count cached for every layer of ``keys``, as the
    start of a pass that reads only the windows after them; None if there is none."""
    found = {layer: _smaller_counts(key, root) for layer, key in keys.items()}
    for n in sorted(set.intersection(*(set(f) for f in found.values())), reverse=True):
        stats = {layer: _load(found[layer][n], replace(key, n_samples=n)) for layer, key in keys.items()}
        if any(s is None for s in stats.values()) or len({s.count for s in stats.values()}) != 1:
            continue  # damaged, or the layers were computed over different windows
        log.info("continuing the %d-window statistics of %d layer(s) to %d windows", n, len(keys), next(iter(keys.values())).n_samples)
        count = next(iter(stats.values())).count
        return Partial(sums={layer: s.moment.double() * count for layer, s in stats.items()}, count=count, next_window=n)
    return None


def _save_torch(path: Path, blob: dict) -> None:
    """Write ``blob`` with its checksum; a cache that cannot be written is reported, and the
    values computed are used all the same."""
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            torch.save(blob | {"sha256": checksum(blob)}, f)
    except WriteError as e:
        log.warning("cannot write the statistics cache %s (%s); using the values without caching them", path, e.strerror)


@torch.no_grad()
def accumulate(
    loaded,
    corpus: Corpus,
    layers: Sequence[int],
    n_samples: int,
    max_length: int,
    batch_size: int = 8,
    progress: bool = True,
    checkpoint: Path | None = None,
    checkpoint_every: int = 25,
    precision: Precision = PRECISIONS["float32"],
    start: Partial | None = None,
) -> dict[int, tuple[torch.Tensor, int]]:
    """One pass over ``n_samples`` windows: per layer (Σ k kᵀ float64 (d_in, d_in), token count).

    The forward runs in ``precision`` and each batch's keys (n_tokens, d_in) are multiplied in
    its key dtype; the products are summed in float64.

    Under ``torch.distributed`` rank ``r`` of ``w`` takes windows ``i ≡ r (mod w)`` and the
    sums are all-reduced at the end. With ``checkpoint`` the running sums are saved every
    ``checkpoint_every`` batches, and a pass that finds them continues where it stopped;
    otherwise it continues from ``start`` if given (sums of the corpus's first windows).
    """
    model, arch = loaded.model, loaded.arch
    rank, world = _world()
    reads = {layer: (layer_module(model, arch, arch.mlp_out, layer), "input") for layer in layers}
    deepest = reads[max(layers)][0]
    state = _load_partial(checkpoint, layers) or start or Partial(sums={}, count=0, next_window=0)
    batch: list[list[int]] = []
    flushes = 0
    bar = tqdm(total=n_samples, initial=state.next_window, desc=f"second moments, layers {list(layers)}", unit="win", disable=not progress or rank != 0)

    def flush(next_window: int):
        nonlocal flushes
        width = max(len(w) for w in batch)
        ids = torch.full((len(batch), width), loaded.tokenizer.pad_token_id or 0, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, w in enumerate(batch):
            ids[i, : len(w)] = torch.tensor(w)
            mask[i, : len(w)] = 1
        ids, mask = ids.to(loaded.device), mask.to(loaded.device)
        with record(reads, stop_at=deepest) as seen, precision.forward(loaded.device):
            run_stopping(lambda: model(input_ids=ids, attention_mask=mask))
        real = mask.bool()
        for layer in layers:
            k = seen[layer][real.to(seen[layer].device)].to(precision.keys)  # (n_tokens, d_in)
            s = (k.T @ k).double().cpu()
            state.sums[layer] = state.sums[layer] + s if layer in state.sums else s
        state.count += int(real.sum())
        bar.update(next_window - state.next_window)
        state.next_window = next_window
        batch.clear()
        flushes += 1
        if checkpoint is not None and flushes % checkpoint_every == 0:
            _save_torch(checkpoint, {"sums": state.sums, "count": state.count, "next_window": state.next_window})

    n = 0
    for i, w in enumerate(windows(loaded.tokenizer, corpus, max_length)):
        if i >= n_samples:
            break
        n = i + 1
        if i < state.next_window or i % world != rank:
            continue
        batch.append(w)
        if len(batch) == batch_size:
            flush(i + 1)
    if batch:
        flush(n)
    bar.close()
    if n < n_samples:
        log.warning("corpus %s has only %d windows of %d tokens; asked for %d", corpus.name, n, max_length, n_samples)
    if world > 1:
        for layer in layers:
            if layer not in state.sums:  # a rank that got no window
                d = reads[layer][0].weight.shape[0 if arch.conv1d else 1]
                state.sums[layer] = torch.zeros(d, d, dtype=torch.float64)
            state.sums[layer] = _sum_over_ranks(state.sums[layer])
        state.count = int(_sum_over_ranks(torch.tensor([state.count], dtype=torch.float64)).item())
    return {layer: (state.sums[layer], state.count) for layer in layers}


def second_moments(
    loaded,
    corpus: Corpus,
    layers: Sequence[int],
    n_samples: int,
    max_length: int,
    batch_size: int = 8,
    root: Path | None = None,
    progress: bool = True,
    precision: str = "float32",
) -> dict[int, SecondMoment]:
    """``E[k kᵀ]`` of the MLP-output-projection input at each layer, from cache where possible.

    ``precision``: a key of :data:`kedit.stats.precision.PRECISIONS` or ``"auto"``, resolved on
    the model's device; the resolved name is part of each key. Missing layers are computed in
    one pass (resumable: partial sums are checkpointed next to the cache); under
    ``torch.distributed`` every rank computes its shard and rank 0 writes.
    """
    dtype = str(next(loaded.model.parameters()).dtype).removeprefix("torch.")
    how = resolve(precision, loaded.device)
    keys = {
        layer: StatsKey(loaded.fingerprint, loaded.arch.mlp_out.format(layer), corpus.fingerprint, n_samples, max_length, dtype, how.name)
        for layer in layers
    }
    out = {layer: _load(cache_path(keys[layer], root), keys[layer]) for layer in layers}
    missing = [layer for layer in layers if out[layer] is None]
    if missing:
        rank, world = _world()
        first = cache_path(keys[missing[0]], root)
        tag = sha256("".join(keys[layer].digest() for layer in missing))[:16]  # = sha256 of the UTF-8 bytes, as before
        checkpoint = first.parent / f"partial-{tag}-rank{rank}of{world}.pt"
        start = continued_from({layer: keys[layer] for layer in missing}, root) if world == 1 else None  # ranks share no start
        for layer, (total, count) in accumulate(loaded, corpus, missing, n_samples, max_length, batch_size, progress, checkpoint, precision=how, start=start).items():
            stat = SecondMoment(moment=(total / count).float(), count=count, key=keys[layer])
            if not torch.isfinite(stat.moment).all():
                checkpoint.unlink(missing_ok=True)
                raise NonFiniteError(
                    f"the second moments of {stat.key.module} over corpus {corpus.name} are not finite in {dtype} "
                    "(the model overflows in that dtype); nothing was cached; use bfloat16 or float32"
                )
            if rank == 0:
                _save(cache_path(keys[layer], root), stat)
            out[layer] = stat
        checkpoint.unlink(missing_ok=True)
        if world > 1:
            import torch.distributed as dist

            dist.barrier()
    return out
