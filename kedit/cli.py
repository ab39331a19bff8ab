"""The ``kedit`` command line."""

from __future__ import annotations

import logging

import click

from kedit import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kedit")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Reproducible batch knowledge editing: MEMIT, MEMIT-Merge and their family, driven by edit specs."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")


def _register_subcommands() -> None:
    from kedit.data.cli import data

    main.add_command(data)


_register_subcommands()
