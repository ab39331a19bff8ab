"""The formats ``kedit report DIR --format FORMAT`` renders a report in (to stdout or ``--out``)."""

from __future__ import annotations

from collections.abc import Callable

from kedit.report.latex import render_latex
from kedit.report.render import render_markdown
from kedit.report.tidy import render_csv
from kedit.report.view import View

EXPORTS: dict[str, Callable[[View], str]] = {"md": render_markdown, "latex": render_latex, "csv": render_csv}
