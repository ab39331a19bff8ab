"""The engine: what editing needs beyond kedit's light core (pyproject's ``engine`` extra).

``pip install kedit`` brings jsonschema, click and pyyaml: enough for ``kedit validate``,
``schema``, ``diff`` and ``report`` (without plots), which import none of the engine.
``pip install 'kedit[engine]'`` adds what ``kedit run``, ``kedit stats`` and ``kedit data
build/push`` need. Such a command checks for the engine before anything else and, where it is
missing, ends with :class:`EngineMissing` (exit 2) naming the install, not with a traceback.
"""

from __future__ import annotations

import functools
import importlib.util

import click

#: The modules the ``engine`` extra installs, one per package (tests check they agree with pyproject.toml).
MODULES = ("torch", "transformers", "accelerate", "gguf", "datasets", "huggingface_hub", "SPARQLWrapper", "pyoxigraph", "matplotlib", "numpy", "tqdm")
INSTALL = "pip install 'kedit[engine]'"


class EngineMissing(click.ClickException):
    """A command that needs the engine, run without it: message on stderr, exit code 2."""

    exit_code = 2


def missing(modules: tuple[str, ...] = MODULES) -> list[str]:
    """The modules of ``modules`` that are not installed (looked up, not imported)."""
    return [m for m in modules if not _installed(m)]


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module blocked in sys.modules, or a broken one
        return False


def require(command: str, modules: tuple[str, ...] = MODULES, what: str = "the engine") -> None:
    """Raise :class:`EngineMissing` for ``command`` (``"kedit run"``) if any of ``modules`` is missing."""
    gone = missing(modules)
    if gone:
        raise EngineMissing(f"{command} needs {what}: {INSTALL} (not installed: {', '.join(gone)})")


def command_name(ctx: click.Context) -> str:
    """``kedit stats compute``, whatever the program was called (``python -m kedit.cli``)."""
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name)
        ctx = ctx.parent
    return " ".join(["kedit", *reversed(names)])


def needs_engine(command):
    """Decorate a click command's function: it first checks that the engine is installed."""

    @functools.wraps(command)
    def checked(*args, **kwargs):
        require(command_name(click.get_current_context()))
        return command(*args, **kwargs)

    return checked
