"""`meldtekst evaluate`: per-theme precision, recall and F1 of a model on labelled reports."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from meldtekst.cli._app import app, check_output_table
from meldtekst.models.store import load_model


@app.command("evaluate", epilog="Example: meldtekst evaluate data/meldingen.jsonl -m accurate --errors fouten.csv")
def evaluate_cli(
    data: Path = typer.Argument(..., metavar="DATA", help="Labelled reports: a text and a labels column."),
    model: str = typer.Option(None, "--model", "-m", help="fast | accurate | model DIR | models:/NAME@ALIAS."),
    split: str = typer.Option("test", "--split", help="train | dev | test | all (needs a `split` column)."),
    json_out: Path = typer.Option(None, "--json", help="Write the metrics as JSON."),
    errors: Path = typer.Option(None, "--errors", help="Write misclassified reports (expected vs predicted)."),
    text_column: str = typer.Option("tekst", "--text-column", help="Column with the report text."),
    labels_column: str = typer.Option(
        "labels", "--labels-column", help="Column with the theme ids (a JSON list, or ids separated by ';')."
    ),
) -> None:
    """Evaluate a model on labelled reports: per-theme P/R/F1/support, micro and macro F1."""
    from meldtekst.evaluation import evaluate, write_errors  # scikit-learn: imported only when used

    if errors is not None:
        check_output_table(errors)
    loaded = load_model(model)
    result = evaluate(loaded, data, split=split, text_column=text_column, labels_column=labels_column)
    m = result.metrics
    table = Table(title=f"{loaded.name} {loaded.version} on {data.name} [{split}] ({len(result.data)} reports)")
    for col in ("theme", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "theme" else "right")
    for theme, pt in m["per_theme"].items():
        table.add_row(theme, f"{pt['precision']:.3f}", f"{pt['recall']:.3f}", f"{pt['f1']:.3f}", str(pt["support"]))
    console = Console()
    console.print(table)
    console.print(f"micro-F1 {m['micro_f1']:.3f}   macro-F1 {m['macro_f1']:.3f}")
    if json_out:
        json_out.write_text(json.dumps({k: m[k] for k in ("micro_f1", "macro_f1", "per_theme")}, indent=2) + "\n")
    if errors:
        n = write_errors(result, errors)
        console.print(f"{n} misclassified report(s) written to {errors}")
