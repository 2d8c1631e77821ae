"""`meldtekst explain`: one report with the words that raised each theme's score highlighted."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import click
import typer
from rich.console import Console
from typer.core import TyperCommand

from meldtekst.cli._app import app
from meldtekst.codebook import load_codebook
from meldtekst.errors import InputError
from meldtekst.explain import DEFAULT_K, explain_text, find_report, render_html, render_terminal
from meldtekst.io import check_readable
from meldtekst.models.store import load_model


class OptionalCountCommand(TyperCommand):
    """Lets ``--explain`` stand alone (meaning `DEFAULT_K`) or take a count: ``--explain 3``.

    Typer has no options with an optional value, so a bare ``--explain`` gets the default
    inserted before parsing.
    """

    optional_counts: ClassVar[dict[str, int]] = {"--explain": DEFAULT_K}

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        out: list[str] = []
        for i, arg in enumerate(args):
            out.append(arg)
            if arg in self.optional_counts and (i + 1 == len(args) or not args[i + 1].isdigit()):
                out.append(str(self.optional_counts[arg]))
        return super().parse_args(ctx, out)


@app.command("explain", epilog="Example: meldtekst explain --input meldingen.xlsx --id M-0012 --html uitleg.html")
def explain_cli(
    text: str = typer.Argument(None, metavar="TEXT", help="The report text (or use --input and --id)."),
    input_path: Path = typer.Option(None, "--input", "-i", help="Report file: .csv, .xlsx, .jsonl or .parquet."),
    report_id: str = typer.Option(None, "--id", help="Id of the report in --input."),
    model: str = typer.Option(None, "--model", "-m", help="fast | accurate | model DIR | models:/NAME@ALIAS."),
    top: int = typer.Option(DEFAULT_K, "--top", "-k", help="Words or phrases to show per theme."),
    themes: list[str] = typer.Option(None, "--theme", "-t", help="Explain this theme even if not assigned (repeat)."),
    threshold_scale: float = typer.Option(1.0, "--threshold-scale", help="As for `tag`: < 1 assigns more themes."),
    html: Path = typer.Option(None, "--html", help="Also write the view as a self-contained HTML page."),
    text_column: str = typer.Option("tekst", "--text-column", help="Column with the report text."),
    id_column: str = typer.Option("id", "--id-column", help="Column with the report id."),
    sheet: str = typer.Option(None, "--sheet", help="Excel sheet to read (default: first with data)."),
) -> None:
    """Show which words and phrases of one report raised each assigned theme's score most."""
    if (text is None) == (input_path is None):
        raise InputError("give the report text, or --input FILE with --id ID (not both)")
    if input_path is not None:
        if report_id is None:
            raise InputError("--input needs --id to choose the report")
        check_readable(input_path)
        text = find_report(input_path, report_id, text_column=text_column, id_column=id_column, sheet=sheet)
    if threshold_scale <= 0:
        raise InputError("--threshold-scale must be > 0")
    if not text or not text.strip():
        raise InputError(f"report '{report_id}' has an empty text" if report_id else "the report text is empty")
    cb = load_codebook()
    unknown = [t for t in themes or () if t not in cb]
    if unknown:
        raise InputError(f"unknown theme id '{unknown[0]}'; `meldtekst codebook` lists them")
    loaded = load_model(model)
    expl = explain_text(loaded, text, k=top, themes=themes or None, threshold_scale=threshold_scale)
    Console().print(render_terminal(expl))
    if html is not None:
        if not html.parent.is_dir():
            raise InputError("output folder does not exist", path=html.parent)
        title = f"Uitleg melding {report_id}" if report_id else "Uitleg melding"
        html.write_text(render_html(expl, title=title), encoding="utf-8")
        Console(stderr=True).print(f"written to {html}")
