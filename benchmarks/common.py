"""Helpers shared by the benchmark scripts: machine description, peak memory, result files."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import torch

    return {
        "cpu": cpu or platform.processor(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),  # the kernels torch picked: AVX2, AVX512, ...
        "bfloat16_native": _native_bfloat16(),  # what statistics.precision: auto reads
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_gpu_mib() -> float | None:
    """Peak memory torch allocated on the current CUDA device so far; None without one."""
    import torch

    return torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None


def add_device_arguments(parser) -> None:
    """``--device`` and ``--dtype`` of the model, shared by the benchmarks that take them."""
    parser.add_argument("--device", default="cpu", help="torch device of the model, e.g. cuda")
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"))


def device_suffix(device: str, dtype: str) -> str:
    """Result-file suffix of a run off the default (CPU, float32), so it never overwrites one."""
    return "" if (device, dtype) == ("cpu", "float32") else f"_{device.replace(':', '')}_{dtype}"


def run_child(script: Path, args: list[str]) -> dict:
    """Run ``script --child ARGS`` in a fresh process (its own peak memory) and parse its last JSON line."""
    out = subprocess.run([sys.executable, str(script), "--child", *args], capture_output=True, text=True, env=os.environ | {"HF_HUB_OFFLINE": "1"})
    if out.returncode != 0:
        raise RuntimeError(f"{script.name} child failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_results(name: str, data: dict, markdown: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print(markdown)


def _native_bfloat16() -> bool:
    import torch

    from kedit.stats.precision import fast_bfloat16

    return fast_bfloat16(torch.device("cpu"))
