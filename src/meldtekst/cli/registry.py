"""`meldtekst registry`: list registered model versions and point aliases (production, staging) at them."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from meldtekst.cli._app import app
from meldtekst.tracking import list_model_versions, set_alias, tracking_uri

registry_app = typer.Typer(
    help="The MLflow model registry: list versions, set aliases (tag with --model models:/NAME@ALIAS).",
    no_args_is_help=True,
)
app.add_typer(registry_app, name="registry")


@registry_app.command("alias", epilog="Example: meldtekst registry alias meldtekst production 3")
def alias_cli(
    name: str = typer.Argument(..., metavar="NAME", help="Registered model name (as given to `train --register`)."),
    alias: str = typer.Argument(..., metavar="ALIAS", help="Alias to set, e.g. production or staging."),
    version: str = typer.Argument(..., metavar="VERSION", help="Version the alias points at from now on."),
) -> None:
    """Point ALIAS of model NAME at VERSION (moves the alias if it pointed elsewhere)."""
    set_alias(name, alias, version)
    typer.echo(f"models:/{name}@{alias} -> version {version}")


@registry_app.command("list", epilog="Example: meldtekst registry list --name meldtekst")
def list_cli(
    name: str = typer.Option(None, "--name", help="Only this registered model."),
    as_json: bool = typer.Option(False, "--json", help="Print the versions as JSON."),
) -> None:
    """List registered models: every version with its aliases, run and creation time."""
    rows = list_model_versions(name)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    console = Console()
    if not rows:
        console.print(f"no registered models in {tracking_uri()}")
        return
    table = Table(title=f"model registry ({tracking_uri()})")
    for col in ("name", "version", "aliases", "run", "created"):
        table.add_column(col, no_wrap=col != "aliases")
    for row in rows:
        table.add_row(row["name"], row["version"], ", ".join(row["aliases"]), row["run_id"][:12], row["created"])
    console.print(table)
