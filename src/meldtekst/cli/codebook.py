"""`meldtekst codebook`: show the themes."""

from __future__ import annotations

import json
from enum import StrEnum

import typer
from rich.console import Console
from rich.table import Table

from meldtekst.cli._app import app
from meldtekst.codebook import load_codebook


class CodebookFormat(StrEnum):
    table = "table"
    json = "json"


@app.command("codebook", epilog="Example: meldtekst codebook --format json")
def codebook_cli(
    fmt: CodebookFormat = typer.Option(CodebookFormat.table, "--format", "-f", help="table or json."),
) -> None:
    """Print the theme codebook (ids, groups, names, definitions)."""
    cb = load_codebook()
    if fmt is CodebookFormat.json:
        typer.echo(json.dumps([t.as_dict() for t in cb.themes], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"meldtekst codebook v{cb.version} ({len(cb)} themes)", show_lines=False)
    table.add_column("group", style="cyan", no_wrap=True)
    table.add_column("id", style="bold", no_wrap=True)
    table.add_column("naam")
    table.add_column("definitie")
    for group_id in cb.groups:
        for theme_id in cb.in_group(group_id):
            t = cb[theme_id]
            table.add_row(group_id, t.id, t.name, t.definition)
    Console().print(table)
