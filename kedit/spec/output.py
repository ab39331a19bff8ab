"""How ``kedit validate`` prints what it found: text on stderr, one JSON document, or GitHub
Actions annotations, each followed by the same summary line.

A GitHub annotation is a workflow command on stdout, one per problem::

    ::error file=specs/a.yaml,line=4,title=kedit validate::/seeds/1: 1.5 is not of type 'integer'

GitHub shows it on the pull request's diff at that line. Its escaping (GitHub's
``toCommandValue``/``escapeData``/``escapeProperty`` in actions/toolkit): in the message ``%``,
CR and LF; in a property also ``:`` and ``,``. The line is given only when known.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from kedit.spec.errors import Problem
from kedit.spec.load import Checked

TITLE = "kedit validate"

Echo = Callable[..., None]  # click.echo: (message, err=False)


def escape_data(text: str) -> str:
    """An annotation's message, escaped as GitHub's workflow commands need."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """An annotation's property value (file, title), escaped as GitHub's workflow commands need."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(problem: Problem) -> str:
    """One ``::error`` workflow command for ``problem``; its file as given, normalised
    (``specs/presets/../x.yaml`` -> ``specs/x.yaml``), relative paths staying relative. kedit
    knows a problem's line but not its column, so ``col`` is never given."""
    props = {"file": os.path.normpath(problem.file)} | ({"line": str(problem.line)} if problem.line else {}) | {"title": TITLE}
    listed = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    message = f"{problem.pointer or '/'}: {problem.message}"
    return f"::error {listed}::{escape_data(message)}"


def summary(results: list[Checked]) -> str:
    bad = sum(not r.valid for r in results)
    fragments = sum(r.fragment for r in results)
    checked = f"{len(results)} spec file(s)" + (f" ({fragments} fragment(s))" if fragments else "")
    return f"{checked}: {len(results) - bad} valid, {bad} with errors"


def as_text(results: list[Checked], echo: Echo) -> None:
    """``file:line: /pointer: message`` per problem, and the summary; all on stderr when any failed."""
    for r in results:
        for p in r.problems:
            echo(str(p), err=True)
    echo(summary(results), err=not all(r.valid for r in results))


def as_json(results: list[Checked], echo: Echo) -> None:
    """One JSON document on stdout: ``{"valid": bool, "files": [Checked.as_dict(), ...]}``."""
    echo(json.dumps({"valid": all(r.valid for r in results), "files": [r.as_dict() for r in results]}, indent=1))


def as_github(results: list[Checked], echo: Echo) -> None:
    """One GitHub Actions ``::error`` annotation per problem on stdout, then the summary."""
    for r in results:
        for p in r.problems:
            echo(annotation(p))
    echo(summary(results))


# --format name -> printer
FORMATS: dict[str, Callable[[list[Checked], Echo], None]] = {"text": as_text, "json": as_json, "github": as_github}
