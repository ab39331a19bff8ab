"""kedit.models.host_memory: glibc's malloc keeps what the process frees."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from kedit.models import host_memory

# Three steps that make and free activations of 8-64 MiB, as a value step does: their page faults.
SCRIPT = """
import resource, torch
from kedit.models.host_memory import keep_freed_memory
applied = keep_freed_memory()
w = torch.randn(128, 128, requires_grad=True)
def step():
    h = torch.randn(1 << 17, 128)
    for _ in range(3):
        h = torch.tanh(h @ w)
    h.square().mean().backward()
for i in range(5):
    if i == 2:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    step()
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(env_value: str | None, monkeypatch) -> tuple[str, int]:
    if env_value is None:
        monkeypatch.delenv("KEDIT_MALLOC", raising=False)
    else:
        monkeypatch.setenv("KEDIT_MALLOC", env_value)
    applied, faults = subprocess.run([sys.executable, "-c", SCRIPT], check=True, capture_output=True, text=True).stdout.split()
    return applied, int(faults)


def _huge_pages_always() -> bool:
    """Transparent huge pages on every mapping: a fresh mapping then faults once per 2 MiB, and
    page faults no longer tell a reused block from a new one."""
    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    return thp.exists() and "[always]" in thp.read_text()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
@pytest.mark.skipif(_huge_pages_always(), reason="transparent huge pages on every mapping hide the faults counted")
def test_freed_memory_is_reused_without_page_faults(monkeypatch):
    applied, kept = _page_faults(None, monkeypatch)
    assert applied == "True"
    applied, shipped = _page_faults("default", monkeypatch)
    assert applied == "False"
    # as glibc ships it, every step maps its activations anew (~840 000 faults here); kept,
    # a step reuses the memory the one before freed (0-65 000: glibc's aligned blocks do not
    # always fit the hole a freed one leaves)
    assert kept < shipped / 4


def test_an_unknown_setting_is_named_and_memory_kept(monkeypatch, caplog):
    monkeypatch.setenv("KEDIT_MALLOC", "fast")
    monkeypatch.setattr(host_memory.ctypes, "CDLL", lambda name: type("C", (), {"mallopt": staticmethod(lambda param, value: 1)})())
    assert host_memory.keep_freed_memory() is True
    assert "KEDIT_MALLOC='fast' is neither 'keep' nor 'default'" in caplog.text


def test_no_mallopt_is_no_error(monkeypatch):
    monkeypatch.delenv("KEDIT_MALLOC", raising=False)
    monkeypatch.setattr(host_memory.ctypes, "CDLL", lambda name: object())  # a C library without mallopt
    assert host_memory.keep_freed_memory() is False
