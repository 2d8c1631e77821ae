"""`meldtekst validate`: check a report file before tagging or training."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from meldtekst.cli._app import app, echo_warnings
from meldtekst.validate import validate_file


@app.command("validate", epilog="Example: meldtekst validate meldingen.xlsx --text-column omschrijving")
def validate_cli(
    path: Path = typer.Argument(..., metavar="INPUT", help="CSV, XLSX, JSONL or Parquet file."),
    text_column: str = typer.Option("tekst", "--text-column", help="Column with the report text."),
    id_column: str = typer.Option("id", "--id-column", help="Column with the report id (else row numbers)."),
    sheet: str = typer.Option(None, "--sheet", help="Excel sheet (default: the first with data)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Check a labelled or unlabelled report file and print a summary; exit 1 on errors."""
    report = validate_file(path, text_column=text_column, id_column=id_column, sheet=sheet)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print_summary(report)
    echo_warnings(report.warnings)
    for error in report.errors:
        typer.echo(f"Error: {error}", err=True)
    if not report.ok:
        raise typer.Exit(1)


def _print_summary(report) -> None:  # type: ignore[no-untyped-def]
    console = Console()
    lengths = report.length_summary()
    console.print(f"[bold]{report.path}[/bold] ({report.fmt}): {report.rows} rows")
    console.print(f"columns: {', '.join(report.columns)}")
    console.print(f"empty texts: {report.empty_texts}; duplicate ids: {len(report.duplicate_ids)}")
    if lengths:
        console.print("words per text: min {min}, median {median:.0f}, p75 {p75:.0f}, max {max}".format(**lengths))
    if report.labelled:
        table = Table(title="reports per theme")
        table.add_column("theme")
        table.add_column("reports", justify="right")
        for theme, count in report.label_counts.items():
            table.add_row(theme, str(count))
        table.add_row("(no theme)", str(report.unlabelled_rows))
        console.print(table)
    console.print("[green]OK[/green]" if report.ok else f"[red]{len(report.errors)} error(s)[/red]")
