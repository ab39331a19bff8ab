"""Where a result comes from: kedit's code and commit, the libraries and the machine.

Reports record these; cell keys include :func:`code_fingerprint`, so a cell computed by other
code is never reused.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PACKAGE = Path(__file__).parent
LIBRARIES = ("torch", "transformers", "datasets", "jsonschema", "SPARQLWrapper", "pyoxigraph")


@cache
def code_fingerprint() -> str:
    """SHA-256 of kedit's own code and tables (every .py and .yaml file of the package).

    An edited checkout has the same version number but may give other results.
    """
    files = sorted(p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".yaml") and p.is_file())
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.relative_to(PACKAGE).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return digest.hexdigest()


def git_commit() -> str | None:
    """The commit of the kedit checkout, when kedit runs from one."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PACKAGE, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _version(pkg: str) -> str | None:
    try:
        return version(pkg)
    except PackageNotFoundError:
        return None


def environment() -> dict:
    """Python, platform, machine and the versions of the libraries results depend on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "libraries": {p: _version(p) for p in LIBRARIES},
    }
