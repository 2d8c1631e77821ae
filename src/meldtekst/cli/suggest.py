"""`meldtekst suggest`: the reports to label next, as Label Studio tasks with pre-annotations."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from meldtekst.cli._app import app
from meldtekst.labelling.strategies import STRATEGIES
from meldtekst.models.store import load_model


@app.command(
    "suggest", epilog="Example: meldtekst suggest nieuw.xlsx -n 50 -o taken.json --exclude data/meldingen.jsonl"
)
def suggest_cli(
    input: Path = typer.Argument(
        ..., metavar="INPUT", help="Unlabelled (or partly labelled) reports: CSV/XLSX/JSONL/Parquet."
    ),
    n: int = typer.Option(50, "-n", help="How many reports to suggest."),
    output: Path = typer.Option(..., "--output", "-o", help="Label Studio tasks to write (.json)."),
    model: str = typer.Option(None, "--model", "-m", help="fast | accurate | DIR | models:/NAME@ALIAS."),
    strategy: str = typer.Option(
        "uncertainty",
        "--strategy",
        "-s",
        help=f"{' | '.join(STRATEGIES)}: closest to a threshold (rare themes "
        "first), uncertain and varied, random (the control), or the reports `tag` flags needs_review.",
    ),
    exclude: list[Path] = typer.Option(
        None, "--exclude", help="Already labelled reports or earlier task files (repeatable): never suggested again."
    ),
    seed: int = typer.Option(13, "--seed", help="Seed for random and diverse."),
    text_column: str = typer.Option("tekst", "--text-column", help="Column with the report text."),
    id_column: str = typer.Option("id", "--id-column", help="Column with the report id."),
) -> None:
    """Pick the reports whose labels help the model most and write them as Label Studio tasks."""
    from meldtekst.labelling.suggest import suggest

    summary = suggest(
        input,
        output,
        load_model(model),
        n=n,
        strategy=strategy,
        exclude=exclude or (),
        seed=seed,
        text_column=text_column,
        id_column=id_column,
    )
    for warning in summary.warnings:
        typer.echo(f"Warning: {warning}", err=True)
    typer.echo(
        f"{summary.suggested} task(s) written to {output} by '{strategy}' from {summary.candidates} candidate(s); "
        f"skipped: {summary.empty_texts} empty, {summary.excluded_by_id} excluded by id, "
        f"{summary.excluded_by_text} by (near-)identical text, {summary.duplicates_in_input} repeated in the input",
        err=True,
    )
    typer.echo(json.dumps(summary.as_dict()))
