"""The ``kedit`` command line.

Exit codes: 0 success; 1 ``validate`` found invalid specs (or ``diff`` found a regression
with ``--fail-on-regression``); 2 bad input: an unreadable or invalid spec, a missing
file, a model or dataset that cannot be had, an unwritable output directory; 3 an internal
error (a bug: the traceback goes to a log file, the console gets one line naming it);
130 interrupted (Ctrl-C; a run keeps the cells it finished).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from pathlib import Path

import click

from kedit import __version__
from kedit.catalog import CATEGORIES, as_text
from kedit.engine import needs_engine, require


class InputError(click.ClickException):
    """Bad input: message on stderr, exit code 2."""

    exit_code = 2


class Boundary(click.Group):
    """The one place where failures become exit codes: click's own (usage, InputError) pass
    through; Ctrl-C exits 130; anything else is an internal error, exit 3, with the traceback
    written to a log file that the one-line message names."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as e:  # noqa: BLE001  (the boundary: every other failure is a bug to report)
            log = _write_traceback()
            click.echo(f"internal error: {type(e).__name__}: {e} (traceback in {log}; please report it)", err=True)
            sys.exit(3)


def _write_traceback() -> Path:
    import tempfile
    import traceback

    from kedit.paths import cache_dir

    try:
        folder = cache_dir() / "logs"
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir())
    fd, name = tempfile.mkstemp(dir=folder, prefix="kedit-error-", suffix=".log")
    with open(fd, "w", encoding="utf-8") as f:
        f.write(f"kedit {__version__}: {' '.join(sys.argv)}\n\n{traceback.format_exc()}")
    return Path(name)


@click.group(cls=Boundary, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kedit")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Reproducible batch knowledge editing: MEMIT, MEMIT-Merge and their family, driven by edit specs.

    \b
    Example:
      kedit run specs/same_subject.yaml
    """
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              help="text: file:line: /pointer: message on stderr; json: one machine-readable document on stdout; "
              "github: GitHub Actions ::error annotations on stdout (shown on the pull request's diff).")
def validate(paths: tuple[Path, ...], fmt: str) -> None:
    """Check spec files and folders; exit 0 valid, 1 invalid, 2 unreadable.

    A file with `fragment: true` is a fragment that specs include: it is checked key by key,
    without the keys a spec needs.

    \b
    Example:
      kedit validate --format github specs/
    """
    from kedit.spec.load import Checked, Problem, check_paths
    from kedit.spec.output import FORMATS

    missing = [Checked(str(p), [Problem(str(p), "", None, "no such file or directory")], unreadable=True) for p in paths if not p.exists()]
    results = missing + check_paths([p for p in paths if p.exists()])
    FORMATS[fmt](results, click.echo)
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
@needs_engine
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Report directory (default: <report.out>/<name>-<spec hash>).")
@click.option("--resume/--no-resume", default=True, help="Reuse cells an interrupted run of the same spec finished (default: yes).")
def run(spec: Path, out: Path | None, resume: bool) -> None:
    """Build the data, edit the model with every method, and write a versioned report.

    \b
    Example:
      kedit run specs/same_subject.yaml --out reports/same_subject
    """
    from kedit.experiment.errors import RunError
    from kedit.experiment.runner import run_spec

    resolved = _load(spec)
    try:
        where = run_spec(resolved, out=out, resume=resume, echo=click.echo)
    except RunError as e:
        raise InputError(f"{spec}: {e}") from None
    click.echo(f"report written to {where} (report.json, report.md, plots)")


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["md", "latex", "csv"]), default=None,
              help="Render the report in this format to stdout (or --out) instead: md (report.md's text), latex (a booktabs "
                   "table shaped like the paper's Table 1), csv (tidy: one line per dataset x method x batch size x metric).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="With --format: write to this file instead of stdout.")
def report(directory: Path, fmt: str | None, out: Path | None) -> None:
    """Re-render report.md and the plots of DIRECTORY from its report.json, or render it in
    another --format (report.json itself is left as it is).

    \b
    Example:
      kedit report reports/table1-0123abcd --format latex --out table1.tex
    """
    from kedit.report.read import ReportError, read_report
    from kedit.report.view import View
    from kedit.util import WriteError, write_atomic

    if out is not None and fmt is None:
        raise click.UsageError("--out needs --format (md, latex or csv)")
    try:
        view = View.of(read_report(directory))
        if fmt is None:
            from kedit.report.build import render_files

            formats = view.data["spec"].get("report", {}).get("formats", ("md", "png"))
            if "png" in formats:
                require("kedit report", ("matplotlib",), "matplotlib to draw the report's plots")
            render_files(view, directory, formats)
        else:
            from kedit.report.export import EXPORTS

            text = EXPORTS[fmt](view)
            if out is None:
                click.echo(text, nl=False)
            else:
                write_atomic(out, text)
    except ReportError as e:
        raise InputError(str(e)) from None
    except WriteError as e:
        raise InputError(f"cannot write {e.filename}: {e.strerror}") from None
    if fmt is None:
        click.echo(f"re-rendered {directory}")
    elif out is not None:
        click.echo(f"wrote {out}", err=True)


@main.command()
@click.argument("a", type=click.Path(exists=True, path_type=Path))
@click.argument("b", type=click.Path(exists=True, path_type=Path))
@click.option("--tolerance", default=0.0, show_default=True, help="Changes smaller than this are not flagged.")
@click.option("--fail-on-regression", is_flag=True, help="Exit 1 if any metric got worse by more than the tolerance.")
def diff(a: Path, b: Path, tolerance: float, fail_on_regression: bool) -> None:
    """Compare two reports cell by cell (A = before, B = after).

    Both are checked against the report schema first; reports with no shared cell or no shared
    metric compare nothing: exit 2 with the reason. Each value shows its n and, where the report
    kept per-edit scores, its interval over the cell's edits. With --fail-on-regression it is a
    CI gate: exit 1 when a metric got worse by more than --tolerance.

    \b
    Example:
      kedit diff --fail-on-regression --tolerance 0.02 baseline/ new/
    """
    from kedit.report.diff import diff_reports, read_pair
    from kedit.report.read import ReportError

    try:
        rows, regressions = diff_reports(*read_pair(a, b), tolerance)
    except ReportError as e:
        raise InputError(str(e)) from None
    for line in rows:
        click.echo(line)
    if fail_on_regression and regressions:
        sys.exit(1)


@main.command("ls")
@click.argument("category", type=click.Choice(list(CATEGORIES)))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="json: a list of {name, description[, higher_is_better]}.")
def ls(category: str, fmt: str) -> None:
    """List what a spec may name: methods, metrics, architectures or models, one per line with a
    short description (metrics also say whether higher or lower is better).

    \b
    Example:
      kedit ls metrics
    """
    entries = CATEGORIES[category]()  # the registries' light halves: no engine needed
    if fmt == "json":
        click.echo(json.dumps([e.as_dict() for e in entries], indent=1))
    else:
        for line in as_text(entries):
            click.echo(line)


@main.command()
@click.option("--write", is_flag=True, help="Write schemas/edit-spec.schema.json (from a checkout).")
def schema(write: bool) -> None:
    """Print (or write) the edit-spec JSON Schema generated from the method and dataset configs.

    \b
    Example:
      kedit schema > edit-spec.schema.json
    """
    from kedit.spec.schema import SPEC_SCHEMA_FILE, build_schema, schema_text

    text = schema_text(build_schema())
    if write:
        target = Path(__file__).resolve().parent.parent / "schemas" / SPEC_SCHEMA_FILE
        from kedit.util import write_atomic

        write_atomic(target, text)
        click.echo(f"wrote {target}")
    else:
        click.echo(text, nl=False)


@main.group()
def stats() -> None:
    """Second-moment statistics: compute (resumable, distributed under torchrun), share on the Hub.

    \b
    Example:
      kedit stats compute specs/same_subject.yaml
    """


def _stats_target(target: str, layers: str | None):
    """(model section, statistics section, layers) from a spec file or a model name."""
    from kedit.spec.model import ModelSection, StatisticsSection

    if Path(target).suffix in (".yaml", ".yml", ".json") and Path(target).is_file():
        spec = _load(Path(target))
        wanted = sorted({layer for m in spec.methods for layer in m.config.statistics_layers()})
        if not (layers or wanted):
            raise InputError(f"{target}: none of its methods ({', '.join(m.label for m in spec.methods)}) reads second-moment statistics; give --layers")
        return spec.model, spec.statistics, [int(x) for x in layers.split(",")] if layers else wanted
    if not layers:
        raise InputError("give --layers when TARGET is a model name")
    return ModelSection(name=target), StatisticsSection(), [int(x) for x in layers.split(",")]


def _loaded(model):
    from kedit.models import ArchitectureError, ModelLoadError, load_model

    try:
        return load_model(**dataclasses.asdict(model))  # the model section's fields are load_model's arguments
    except (ModelLoadError, ArchitectureError) as e:
        raise InputError(str(e)) from None


@stats.command("compute")
@needs_engine
@click.argument("target")
@click.option("--layers", help="Comma-separated layers (default: every layer whose statistics the spec's methods read).")
@click.option("--n-samples", type=int, help="Windows to average over (default: the spec's, else 1000).")
@click.option("--corpus", help="Corpus (default: the spec's, else wikipedia-sample).")
@click.option("--precision", type=click.Choice(["auto", "float32", "bfloat16"]), help="Precision of the pass (default: the spec's statistics.precision, else auto).")
def stats_compute(target: str, layers: str | None, n_samples: int | None, corpus: str | None, precision: str | None) -> None:
    """Compute and cache E[k kᵀ] for TARGET (a spec file or a model name).

    Interrupted passes resume from checkpointed partial sums. Launched with
    `torchrun --nproc-per-node N -m kedit.cli stats compute ...`, each process takes a shard
    of the corpus (gloo on CPU; NCCL on GPUs, one GPU per process by LOCAL_RANK), the sums
    are all-reduced and rank 0 writes.

    \b
    Example:
      kedit stats compute smollm2-135m --layers 3,4,5 --n-samples 2000
    """
    import os

    import torch.distributed as dist

    from kedit.editing.values import NonFiniteError
    from kedit.stats.corpus import CorpusError, get_corpus
    from kedit.stats.moments import second_moments

    model, settings, wanted = _stats_target(target, layers)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed and model.device.startswith("cuda"):  # one GPU per process: the one torchrun's LOCAL_RANK names
        import torch

        local = int(os.environ.get("LOCAL_RANK", "0"))
        model = dataclasses.replace(model, device=f"cuda:{local}")
        if torch.cuda.is_available():  # else loading names the missing device
            torch.cuda.set_device(local)
    if distributed:
        dist.init_process_group("nccl" if model.device.startswith("cuda") else "gloo")
    try:
        loaded = _loaded(model)
        try:
            source = get_corpus(corpus or settings.corpus)
        except CorpusError as e:
            raise InputError(str(e)) from None
        try:
            result = second_moments(
                loaded, source, wanted, n_samples or settings.n_samples, settings.max_length, settings.batch_size, precision=precision or settings.precision
            )
        except NonFiniteError as e:  # the model overflows in its dtype: a choice of the user's
            raise InputError(str(e)) from None
        if not distributed or dist.get_rank() == 0:
            for layer, stat in result.items():
                click.echo(f"layer {layer}: {stat.count} tokens, {stat.key.module}, {stat.key.precision}, cached ({stat.key.digest()})")
    finally:
        if distributed:
            dist.destroy_process_group()


@stats.command("push")
@needs_engine
@click.argument("model_name")
@click.option("--repo-id", required=True, help="Hub dataset repository, ORG/NAME.")
@click.option("--private", is_flag=True)
@click.option("--dry-run", is_flag=True, help="Print what would be uploaded; upload nothing.")
def stats_push(model_name: str, repo_id: str, private: bool, dry_run: bool) -> None:
    """Publish every cached statistics file of MODEL_NAME (with a card) as a Hub dataset repo.

    \b
    Example:
      kedit stats push smollm2-135m --repo-id ORG/kedit-stats-smollm2 --dry-run
    """
    import tempfile

    from kedit.spec.model import ModelSection
    from kedit.stats.hub import StatsShareError, cached_files, export, push

    loaded = _loaded(ModelSection(name=model_name))
    try:
        with tempfile.TemporaryDirectory() as folder:
            export(cached_files(loaded.fingerprint), model_name, Path(folder))
            push(Path(folder), repo_id, private=private, dry_run=dry_run, echo=click.echo)
    except StatsShareError as e:
        raise InputError(str(e)) from None


@stats.command("pull")
@needs_engine
@click.argument("source")
@click.option("--model", "model_name", required=True, help="The model the statistics are for (its fingerprint is checked).")
def stats_pull(source: str, model_name: str) -> None:
    """Import statistics from a Hub repo (ORG/NAME) or a local folder into the cache.

    \b
    Example:
      kedit stats pull ORG/kedit-stats-smollm2 --model smollm2-135m
    """
    from kedit.spec.model import ModelSection
    from kedit.stats.hub import StatsShareError, import_files, pull

    loaded = _loaded(ModelSection(name=model_name))
    try:
        placed = import_files(Path(source), loaded.fingerprint) if Path(source).is_dir() else pull(source, loaded.fingerprint)
    except StatsShareError as e:
        raise InputError(str(e)) from None
    click.echo(f"imported {len(placed)} statistics file(s) for {model_name}")


def _register_subcommands() -> None:
    from kedit.data.cli import data

    main.add_command(data)


_register_subcommands()

if __name__ == "__main__":
    main()
