"""kedit.models.host_memory: glibc's malloc keeps what the process frees."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from kedit.models import host_memory

# A 64 MiB tensor made, freed and made again: the page faults of the second one.
SCRIPT = """
import resource, torch
from kedit.models.host_memory import keep_freed_memory
applied = keep_freed_memory()
x = torch.ones(1 << 24); del x
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
x = torch.ones(1 << 24); del x
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _second_allocation(env_value: str | None, monkeypatch) -> tuple[str, int]:
    if env_value is None:
        monkeypatch.delenv("KEDIT_MALLOC", raising=False)
    else:
        monkeypatch.setenv("KEDIT_MALLOC", env_value)
    applied, faults = subprocess.run([sys.executable, "-c", SCRIPT], check=True, capture_output=True, text=True).stdout.split()
    return applied, int(faults)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_freed_memory_is_reused_without_page_faults(monkeypatch):
    applied, faults = _second_allocation(None, monkeypatch)
    assert applied == "True" and faults < 1000  # 16 384 pages if they were given back
    applied, faults = _second_allocation("default", monkeypatch)
    assert applied == "False" and faults > 10_000  # glibc as shipped: the block is mapped anew


def test_no_mallopt_is_no_error(monkeypatch):
    monkeypatch.delenv("KEDIT_MALLOC", raising=False)
    monkeypatch.setattr(host_memory.ctypes, "CDLL", lambda name: object())  # a C library without mallopt
    assert host_memory.keep_freed_memory() is False
