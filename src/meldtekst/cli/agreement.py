"""`meldtekst agreement`: how well two labellings of the same reports agree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from meldtekst.cli._app import app, check_output_table

if TYPE_CHECKING:
    from meldtekst.labelling.agreement import AgreementResult


@app.command(
    "agreement", epilog="Example: meldtekst agreement labels_anna.jsonl labels_bram.jsonl --disagreements verschil.csv"
)
def agreement_cli(
    a: Path = typer.Argument(..., metavar="A", help="Labelling A (reference): id and labels, text optional."),
    b: Path = typer.Argument(..., metavar="B", help="Labelling B of the same ids, compared against A."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
    disagreements: Path = typer.Option(None, "--disagreements", help="Write the reports where A and B differ."),
) -> None:
    """Per-theme Cohen's kappa, prevalence and F1 of B against A; micro/macro F1 and Krippendorff's alpha."""
    from meldtekst.labelling.agreement import agreement, write_disagreements  # scikit-learn: only when used

    if disagreements is not None:
        check_output_table(disagreements)
    result = agreement(a, b)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print(result)
    if result.texts_differ:
        typer.echo(f"Warning: {len(result.texts_differ)} report(s) have different texts in A and B", err=True)
    if disagreements is not None:
        n = write_disagreements(result, disagreements)
        typer.echo(f"{n} report(s) with different labels written to {disagreements}", err=True)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print(result: AgreementResult) -> None:
    console = Console()
    d = result.as_dict()
    table = Table(title=f"agreement on {d['reports_compared']} reports (B against A)")
    for col in ("theme", "kappa", "positives A", "positives B", "F1 B vs A"):
        table.add_column(col, justify="left" if col == "theme" else "right")
    for theme, v in result.per_theme.items():
        table.add_row(theme, _fmt(v["kappa"]), str(v["positives_a"]), str(v["positives_b"]), _fmt(v["f1_b_vs_a"]))
    console.print(table)
    console.print(
        f"identical label sets {d['identical_label_sets']}; micro-F1 {_fmt(d['micro_f1'])}, macro-F1 "
        f"{_fmt(d['macro_f1'])}, mean kappa {_fmt(d['mean_kappa'])}, "
        f"Krippendorff's alpha {_fmt(d['krippendorff_alpha_all_decisions'])}"
    )
