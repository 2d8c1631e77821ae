"""`meldtekst report`: a lobby report (counts with uncertainty, trends, charts) from a tagged file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from meldtekst.cli._app import app, echo_warnings
from meldtekst.io import check_readable
from meldtekst.reporting import PERIODS, report_file, report_format


@app.command(
    "report",
    epilog="Example: meldtekst report getagd.csv --verified TE_CONTROLEREN.xlsx -o rapport.html --by schooljaar",
)
def report_cli(
    tagged: Path = typer.Argument(..., metavar="TAGGED", help="A file written by `meldtekst tag`."),
    output: Path = typer.Option(
        ..., "--output", "-o", metavar="OUTPUT", help="Report: .html (one file, with charts), .xlsx or .md."
    ),
    verified: Path = typer.Option(
        None,
        "--verified",
        metavar="FILE",
        help="The checked sample from `meldtekst verify-sample` (filled-in .xlsx, `labelstudio import` output, or "
        "JSONL/CSV with 'id' and 'labels'): every theme count gets an estimate with a 95% interval that covers "
        "the model's errors too.",
    ),
    by: str = typer.Option("kwartaal", "--by", help=f"Trend per {' | '.join(PERIODS)}."),
    date_from: str = typer.Option(None, "--from", help="First date to count (2024-03-14 or 14-03-2024)."),
    date_to: str = typer.Option(None, "--to", help="Last date to count (inclusive)."),
    quotes: int = typer.Option(0, "--quotes", help="Up to N de-identified example sentences per theme."),
    min_count: int = typer.Option(5, "--min-count", help="Show counts below K as '< K' (privacy)."),
    model: str = typer.Option(
        None,
        "--model",
        "-m",
        help="The model that tagged TAGGED: the methods note quotes its F1, and it marks the quotes "
        "(default: the default model).",
    ),
    highlight: bool | None = typer.Option(
        None,
        "--highlight/--no-highlight",
        help="Mark in each quote the words that raise its theme (default: when the model loads).",
        show_default=False,
    ),
    sheet: str = typer.Option(None, "--sheet", help="Excel sheet to read (default: first with data)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary."),
) -> None:
    """Count themes in TAGGED and write a report: HTML, Excel or Markdown by OUTPUT's extension."""
    report_format(output)  # a wrong extension should fail before the file is read
    check_readable(tagged)
    if verified is not None:
        check_readable(verified)
    report = report_file(
        tagged,
        output,
        by=by,
        date_from=date_from,
        date_to=date_to,
        quotes=quotes,
        min_count=min_count,
        model=model,
        sheet=sheet,
        highlight=highlight,
        verified=verified,
    )
    echo_warnings(report.warnings)
    if quiet:
        return
    Console(stderr=True).print(
        f"[green]{report.n_reports} reports[/green] ({report.period_text}; {report.n_undated} without a date"
        + (f", {report.n_outside} outside the period" if report.date_from or report.date_to else "")
        + f") -> {output}"
    )
