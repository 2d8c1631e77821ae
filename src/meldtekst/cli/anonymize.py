"""`meldtekst anonymize`: de-identify the text column of a report file, every other column unchanged."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from meldtekst.cli._app import app, check_output_table, echo_warnings
from meldtekst.io import check_readable


@app.command("anonymize", epilog="Example: meldtekst anonymize meldingen.xlsx -o meldingen_anoniem.xlsx")
def anonymize_cli(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="Reports: .csv, .xlsx, .jsonl or .parquet."),
    output: Path = typer.Option(..., "--output", "-o", help="De-identified copy; format by extension."),
    text_column: str = typer.Option("tekst", "--text-column", help="Column with the report text."),
    sheet: str = typer.Option(None, "--sheet", help="Excel sheet to read (default: first with data)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary."),
) -> None:
    """De-identify the text column (names, places, schools, contact details -> [PERSOON] ...); rows kept."""
    from meldtekst.anonymize import CATEGORIES, anonymize_file  # compiled patterns: only when used

    check_readable(input_path)
    check_output_table(output)
    summary = anonymize_file(input_path, output, text_column=text_column, sheet=sheet)
    echo_warnings(summary.warnings)
    if quiet:
        return
    console = Console(stderr=True)
    console.print(
        f"[green]{summary.rows} rows[/green]: {summary.changed} of {summary.texts} texts changed -> {output} "
        f"({summary.reports_per_second:.0f} reports/s)"
    )
    replaced = ", ".join(f"{c} {summary.counts[c]}" for c in CATEGORIES if summary.counts[c])
    console.print(f"replaced: {replaced or 'nothing'}")
