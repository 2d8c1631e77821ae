"""The shared Typer app, the one place where user errors become one line and exit 1, and warnings.

It also turns SIGTERM and SIGHUP (a closed terminal, `kill`, a scheduler's time limit) into the
same interruption as Ctrl-C, so every ``finally`` and context manager runs: temp files of report
text are removed and worker processes are ended before the process exits with 128 + the signal.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import click
import typer
from typer.core import TyperGroup

from meldtekst.errors import InputError, MeldtekstError
from meldtekst.io import table_format

_state = {"debug": False, "verbose": False}

# the signals that end a run the way Ctrl-C does (SIGHUP does not exist on Windows)
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread for SIGINT, SIGTERM or SIGHUP.

    A KeyboardInterrupt, so every cleanup that already handles Ctrl-C (the temp files of
    `meldtekst.io`, the worker pool of `meldtekst.tagging`) handles the other signals too.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """While the block runs, SIGINT/SIGTERM/SIGHUP raise `Interrupted` once; a repeated signal
    is then ignored so that the cleanup it started is not cut short. Handlers are restored after."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        yield
        return
    fired = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        raise Interrupted(signum)

    # a signal ignored on entry stays ignored: `nohup meldtekst tag ...` must survive SIGHUP
    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS if signal.getsignal(sig) != signal.SIG_IGN}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)


def _echo_err(message: str) -> None:
    """stderr may be gone (SIGHUP after the terminal closed): exiting matters more than the line."""
    with contextlib.suppress(OSError, ValueError):
        typer.echo(message, err=True)


class _Group(TyperGroup):
    """Turns MeldtekstError and Ctrl-C (or SIGTERM, SIGHUP) into one line on stderr; ``--debug``
    keeps the traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with stop_signals_interrupt():
                return super().invoke(ctx)
        except MeldtekstError as exc:
            if _state["debug"]:
                raise
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt as exc:
            if _state["debug"]:
                raise
            signum = getattr(exc, "signum", signal.SIGINT)
            name = signal.Signals(signum).name
            _echo_err(f"Interrupted ({name}); no output was written.")
            raise typer.Exit(128 + signum) from None


OUTPUT_TABLE_SUFFIXES = (".csv", ".xlsx", ".jsonl", ".ndjson", ".parquet", ".pq")


def check_output_table(path: Path) -> str:
    """The format of an output table, or one line listing the extensions that can be written.

    Reading also accepts .txt and .tsv as CSV, but writing them would give a comma-separated file
    under a name that promises plain text or tabs, so output names must say what they hold.
    """
    if path.suffix.lower() not in OUTPUT_TABLE_SUFFIXES:
        raise InputError(
            f"unknown file type '{path.suffix or '(none)'}' for an output; name it .csv, .xlsx, .jsonl or .parquet",
            path=path,
        )
    return table_format(path)


def echo_warnings(warnings: Iterable[str]) -> None:
    """Each warning as one ``Warning:`` line on stderr, written alike by every command (and
    apart from stdout, so piped output stays clean)."""
    for warning in warnings:
        typer.echo(f"Warning: {warning}", err=True)


app = typer.Typer(
    name="meldtekst",
    cls=_Group,
    help="Tag Dutch reports to a parents' meldpunt (dwang en drang) with themes from a fixed codebook.",
    epilog="Example: meldtekst tag meldingen.xlsx -o getagd.xlsx   (then: meldtekst COMMAND --help)",
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
    _state["verbose"] = verbose
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    # set before MLflow is imported: its set-up lines and download bars only with --verbose or --debug
    from meldtekst.tracking import configure_mlflow_output

    configure_mlflow_output(verbose=verbose or debug)
    # a base model prepared on first use takes a minute: show its steps on stderr
    from meldtekst.basemodels import show_preparation_progress

    show_preparation_progress(True)
