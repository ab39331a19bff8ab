"""The ``kedit`` command line.

Exit codes: 0 success; 1 ``validate`` found invalid specs (or ``diff`` found a regression
with ``--fail-on-regression``); 2 bad input: an unreadable or invalid spec, a missing
file, a model or dataset that cannot be had, an unwritable output directory.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from kedit import __version__


class InputError(click.ClickException):
    """Bad input: message on stderr, exit code 2."""

    exit_code = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kedit")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Reproducible batch knowledge editing: MEMIT, MEMIT-Merge and their family, driven by edit specs."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="json: one machine-readable document on stdout.")
def validate(paths: tuple[Path, ...], fmt: str) -> None:
    """Check spec files and folders; exit 0 valid, 1 invalid, 2 unreadable."""
    from kedit.spec.load import Checked, Problem, check_paths

    missing = [Checked(str(p), [Problem(str(p), "", None, "no such file or directory")], unreadable=True) for p in paths if not p.exists()]
    results = missing + check_paths([p for p in paths if p.exists()])
    if fmt == "json":
        click.echo(json.dumps({"valid": all(r.valid for r in results), "files": [r.as_dict() for r in results]}, indent=1))
    else:
        for r in results:
            for p in r.problems:
                click.echo(str(p), err=True)
        bad = sum(not r.valid for r in results)
        click.echo(f"{len(results)} spec file(s): {len(results) - bad} valid, {bad} with errors", err=bad > 0)
    if any(r.unreadable for r in results):
        sys.exit(2)
    if any(not r.valid for r in results):
        sys.exit(1)


def _load(spec_path: Path):
    from kedit.spec.load import SpecError, load_spec

    try:
        return load_spec(spec_path)
    except SpecError as e:
        raise InputError("invalid spec:\n" + str(e)) from None


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Report directory (default: <report.out>/<name>-<spec hash>).")
@click.option("--resume/--no-resume", default=True, help="Reuse cells an interrupted run of the same spec finished (default: yes).")
def run(spec: Path, out: Path | None, resume: bool) -> None:
    """Build the data, edit the model with every method, and write a versioned report."""
    from kedit.run import RunError, run_spec

    resolved = _load(spec)
    try:
        where = run_spec(resolved, out=out, resume=resume, echo=click.echo)
    except RunError as e:
        raise InputError(f"{spec}: {e}") from None
    click.echo(f"report written to {where} (report.json, report.md, plots)")


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def report(directory: Path) -> None:
    """Re-render report.md and the plots of DIRECTORY from its report.json."""
    from kedit.report.build import write_report

    path = directory / "report.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: cannot read report: {e}") from None
    write_report(data, directory, data["spec"]["report"]["formats"])
    click.echo(f"re-rendered {directory}")


@main.command()
@click.argument("a", type=click.Path(exists=True, path_type=Path))
@click.argument("b", type=click.Path(exists=True, path_type=Path))
@click.option("--tolerance", default=0.0, show_default=True, help="Changes smaller than this are not flagged.")
@click.option("--fail-on-regression", is_flag=True, help="Exit 1 if any metric got worse by more than the tolerance.")
def diff(a: Path, b: Path, tolerance: float, fail_on_regression: bool) -> None:
    """Compare two reports cell by cell (A = before, B = after)."""
    from kedit.report.diff import diff_reports, read_report

    try:
        rows, regressions = diff_reports(read_report(a), read_report(b), tolerance)
    except (OSError, ValueError, KeyError) as e:
        raise InputError(str(e)) from None
    for line in rows:
        click.echo(line)
    if fail_on_regression and regressions:
        sys.exit(1)


@main.command()
@click.option("--write", is_flag=True, help="Write schemas/edit-spec.schema.json (from a checkout).")
def schema(write: bool) -> None:
    """Print (or write) the edit-spec JSON Schema generated from the method and dataset configs."""
    from kedit.spec.schema import SPEC_SCHEMA_FILE, build_schema, schema_text

    text = schema_text(build_schema())
    if write:
        target = Path(__file__).resolve().parent.parent / "schemas" / SPEC_SCHEMA_FILE
        target.write_text(text, encoding="utf-8")
        click.echo(f"wrote {target}")
    else:
        click.echo(text, nl=False)


def _register_subcommands() -> None:
    from kedit.data.cli import data

    main.add_command(data)


_register_subcommands()

if __name__ == "__main__":
    main()
