"""`meldtekst tag`: the main job, a file of reports in, the same file with themes out."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from meldtekst.basemodels import show_preparation_progress
from meldtekst.cli._app import app, check_output_table, echo_warnings
from meldtekst.cli.explain import OptionalCountCommand
from meldtekst.io import check_readable, check_writable_output
from meldtekst.models.store import load_model
from meldtekst.tagging import tag_file
from meldtekst.tracking import SYNTHETIC_EXAMPLE


@app.command(
    "tag", cls=OptionalCountCommand, epilog="Example: meldtekst tag meldingen.xlsx -o getagd.xlsx --model accurate"
)
def tag_cli(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="Reports: .csv, .xlsx, .jsonl or .parquet."),
    output: Path = typer.Option(..., "--output", "-o", help="Tagged output; format by extension."),
    model: str = typer.Option(None, "--model", "-m", help="fast | accurate | model DIR | models:/NAME@ALIAS."),
    text_column: str = typer.Option("tekst", "--text-column", help="Column with the report text."),
    id_column: str = typer.Option("id", "--id-column", help="Column with the report id."),
    sheet: str = typer.Option(None, "--sheet", help="Excel sheet to read (default: first with data)."),
    threshold_scale: float = typer.Option(
        1.0, "--threshold-scale", help="Multiply every theme's threshold: < 1 tags more, > 1 tags fewer."
    ),
    review_band: float = typer.Option(
        None,
        "--review-band",
        help="Set needs_review when any theme's score is within this distance (0-1) of its threshold, "
        "instead of the model's own review rule (chosen on dev to flag at most 25% of reports).",
    ),
    no_evidence: bool = typer.Option(False, "--no-evidence", help="Skip evidence sentences (faster)."),
    workers: int = typer.Option(None, "--workers", help="Processes for large files (default: CPU cores, max 4)."),
    explain: int = typer.Option(
        0,
        "--explain",
        metavar="[K]",
        show_default=False,
        help="Add per theme the K (default 5) words or phrases that raised its score most "
        "(JSONL `explanations`, else column `uitleg`); about 0.1-1 s per report with the fast model.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Tag every report in INPUT with themes and write them to OUTPUT (every row, in order)."""
    check_readable(input_path)  # a wrong path should fail before a model is loaded
    check_output_table(output)
    check_writable_output(output, inputs=[input_path])  # a folder or unwritable place: before the model loads
    show_preparation_progress(not quiet)
    loaded = load_model(model)
    # what a model prepares on first use (the `accurate` base model: about a minute, with its own
    # progress lines) happens now, not under the tagging progress bar
    loaded.predict_proba([SYNTHETIC_EXAMPLE])
    summary = tag_file(
        input_path,
        output,
        loaded,
        text_column=text_column,
        id_column=id_column,
        sheet=sheet,
        threshold_scale=threshold_scale,
        review_band=review_band,
        with_evidence=not no_evidence,
        progress=not quiet,
        workers=workers,
        explain=explain,
    )
    echo_warnings(summary.warnings)
    if quiet:
        return
    console = Console(stderr=True)
    top = ", ".join(f"{t} {c}" for t, c in summary.theme_counts.most_common(5) if c)
    console.print(
        f"[green]{summary.rows} rows[/green] tagged with {summary.model} -> {output} "
        f"({summary.rows_with_theme} with >= 1 theme, {summary.needs_review} to review, "
        f"{summary.reports_per_second:.0f} reports/s)"
    )
    if top:
        console.print(f"top themes: {top}")
