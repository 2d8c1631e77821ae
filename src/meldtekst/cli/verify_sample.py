"""`meldtekst verify-sample`: a seeded random sample of a tagged file for people to check by hand."""

from __future__ import annotations

from pathlib import Path

import typer

from meldtekst.cli._app import app, echo_warnings
from meldtekst.io import check_readable
from meldtekst.labelling.verification import draw_sample


@app.command(
    "verify-sample", epilog="Example: meldtekst verify-sample getagd.csv -n 100 -o TE_CONTROLEREN.xlsx --seed 7"
)
def verify_sample_cli(
    tagged: Path = typer.Argument(
        ..., metavar="TAGGED", help="A file written by `meldtekst tag` (with an 'id' column)."
    ),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        metavar="OUTPUT",
        help="The sample: .xlsx (a sheet to fill in), .jsonl, or .json (Label Studio tasks).",
    ),
    n: int = typer.Option(100, "-n", metavar="N", help="How many reports to draw (at least 30 for an estimate)."),
    seed: int = typer.Option(None, "--seed", metavar="S", help="Random seed (default: a new one, recorded in OUTPUT)."),
    prefill: bool = typer.Option(
        False, "--prefill", help="Fill in the model's themes (faster, but they can anchor the checker)."
    ),
    text_column: str = typer.Option("tekst", "--text-column", metavar="COLUMN", help="Column with the report text."),
    sheet: str = typer.Option(None, "--sheet", metavar="NAME", help="Excel sheet of TAGGED to read."),
) -> None:
    """Draw a simple random sample of N reports from TAGGED for people to check by hand, and write it to
    OUTPUT. The seed is recorded in OUTPUT; pass the checked file back with `counts --verified FILE` or
    `report --verified FILE`.
    """
    check_readable(tagged)
    summary = draw_sample(tagged, output, n=n, seed=seed, prefill=prefill, text_column=text_column, sheet=sheet)
    echo_warnings(summary.warnings)
    typer.echo(
        f"{summary.size} of {summary.population} reports drawn at random (seed {summary.seed}"
        + (", the model's themes filled in" if summary.prefilled else "")
        + f") -> {output}; when they are checked: meldtekst report {tagged} --verified {output} -o rapport.html",
        err=True,
    )
