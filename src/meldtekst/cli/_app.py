"""The shared Typer app, the one place where user errors become one line and exit 1, and warnings."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import click
import typer
from typer.core import TyperGroup

from meldtekst.errors import MeldtekstError

_state = {"debug": False}


class _Group(TyperGroup):
    """Turns MeldtekstError and Ctrl-C into one line on stderr; ``--debug`` keeps the traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MeldtekstError as exc:
            if _state["debug"]:
                raise
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            if _state["debug"]:
                raise
            typer.echo("Interrupted; no output was written.", err=True)
            raise typer.Exit(130) from None


def echo_warnings(warnings: Iterable[str]) -> None:
    """Each warning as one ``Warning:`` line on stderr, written alike by every command (and
    apart from stdout, so piped output stays clean)."""
    for warning in warnings:
        typer.echo(f"Warning: {warning}", err=True)


app = typer.Typer(
    name="meldtekst",
    cls=_Group,
    help="Tag Dutch reports to a parents' meldpunt (dwang en drang) with themes from a fixed codebook.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks for errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more (counts and timings, never report text)."),
) -> None:
    _state["debug"] = debug
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
