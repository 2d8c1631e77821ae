"""`meldtekst export-qdpx` / `import-qdpx`: tagged reports to and from qualitative analysis
software (QualCoder, ATLAS.ti, MAXQDA, NVivo) as REFI-QDA projects."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from meldtekst.cli._app import app, check_output_table, echo_warnings
from meldtekst.interop.qdpx import CODE_MODES, export_qdpx, import_qdpx
from meldtekst.io import check_readable


@app.command("export-qdpx", epilog="Example: meldtekst export-qdpx getagd.xlsx -o meldingen.qdpx --anonymize")
def export_qdpx_cli(
    tagged: Path = typer.Argument(..., metavar="TAGGED", help="A file written by `meldtekst tag`."),
    output: Path = typer.Option(..., "--output", "-o", help="The REFI-QDA project to write (.qdpx)."),
    codes: str = typer.Option(
        "themes", "--codes", help=f"{' | '.join(CODE_MODES)}: code evidence sentences, or also explanation spans."
    ),
    anonymize: bool = typer.Option(
        False, "--anonymize", help="De-identify the texts first (names, places, contact details -> [PERSOON] ...)."
    ),
    model: str = typer.Option(
        None, "--model", "-m", help="The model that tagged the file (names the coding user; default: the default)."
    ),
    text_column: str = typer.Option("tekst", "--text-column", help="Column with the report text."),
    id_column: str = typer.Option("id", "--id-column", help="Column with the report id (names each source)."),
    variables: list[str] = typer.Option(
        None, "--variable", help="Column to export as a variable (repeat; default: datum and rol where present)."
    ),
    sheet: str = typer.Option(None, "--sheet", help="Excel sheet to read (default: first with data)."),
) -> None:
    """Write tagged reports as a REFI-QDA project: themes as codes, evidence as coded selections."""
    check_readable(tagged)
    summary = export_qdpx(
        tagged,
        output,
        codes=codes,
        anonymize=anonymize,
        model=model,
        text_column=text_column,
        id_column=id_column,
        variables=variables or None,
        sheet=sheet,
    )
    echo_warnings(summary.warnings)
    console = Console(stderr=True)
    console.print(
        f"[green]{summary.reports} reports[/green], {summary.selections} coded selections by "
        f"'{summary.user}', {summary.codes} codes -> {output}"
    )
    if summary.anonymized:
        replaced = ", ".join(f"{c} {n}" for c, n in summary.replaced.most_common()) or "nothing found"
        console.print(f"texts de-identified (replaced: {replaced})")
    else:
        console.print("[yellow]texts exported as they are, not de-identified[/yellow] (use --anonymize to share)")
    if summary.variables:
        console.print(f"variables copied unchanged: {', '.join(summary.variables)}")


@app.command("import-qdpx", epilog="Example: meldtekst import-qdpx gecodeerd.qdpx -o labels.jsonl --coder humans")
def import_qdpx_cli(
    project: Path = typer.Argument(..., metavar="PROJECT", help="A REFI-QDA project (.qdpx)."),
    output: Path = typer.Option(..., "--output", "-o", help="Labelled reports (id, tekst, labels); .jsonl or a table."),
    coder: str = typer.Option(
        "humans", "--coder", help="Whose codes count: a user name, 'humans' (everyone but the model) or 'all'."
    ),
    ignore_unknown: bool = typer.Option(
        False, "--ignore-unknown", help="Skip codes that are not theme ids instead of stopping."
    ),
) -> None:
    """Read a REFI-QDA project back as training data: per report the union of a coder's codes."""
    check_output_table(output)
    check_readable(project)
    summary = import_qdpx(project, output, coder=coder, ignore_unknown=ignore_unknown)
    echo_warnings(summary.warnings)
    console = Console(stderr=True)
    console.print(
        f"[green]{summary.reports} reports[/green] -> {output} ({summary.labelled} with >= 1 label; "
        f"coders: {', '.join(summary.coders) or 'none'})"
    )
    top = ", ".join(f"{t} {c}" for t, c in summary.label_counts.most_common(5))
    if top:
        console.print(f"top labels: {top}")
