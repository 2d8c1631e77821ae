"""`meldtekst labelstudio config|import`: the Label Studio interface for the codebook, and its export back."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from meldtekst.cli._app import app, check_output_table
from meldtekst.io import write_text_atomic
from meldtekst.labelling.labelstudio import POLICIES, import_export, label_config

labelstudio_app = typer.Typer(help="Label Studio: labelling interface and export import.", no_args_is_help=True)
app.add_typer(labelstudio_app, name="labelstudio")


@labelstudio_app.command("config", epilog="Example: meldtekst labelstudio config -o labelconfig.xml")
def config_cli(
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the XML labelling config."),
) -> None:
    """Write the labelling interface: the text and one multi-select `themes` over the codebook."""
    write_text_atomic(output, label_config())
    typer.echo(f"labelling config written to {output}; paste it under Settings > Labeling Interface > Code", err=True)


@labelstudio_app.command("import", epilog="Example: meldtekst labelstudio import project-1-export.json -o nieuw.jsonl")
def import_cli(
    export: Path = typer.Argument(..., metavar="EXPORT", help="Label Studio export in the JSON format."),
    output: Path = typer.Option(..., "--output", "-o", help="Training rows to write (.jsonl recommended)."),
    policy: str = typer.Option(
        "majority",
        "--annotator-policy",
        help=f"{' | '.join(POLICIES)}: themes most annotators chose, one row per annotator, or the first annotation.",
    ),
    text_field: str = typer.Option("tekst", "--text-field", help="Task data field with the report text."),
) -> None:
    """Turn a Label Studio JSON export into labelled reports for `meldtekst train --extra`."""
    check_output_table(output)
    summary = import_export(export, output, policy=policy, text_field=text_field)
    typer.echo(
        f"{summary.rows} row(s) written to {output} from {summary.tasks} task(s), {summary.annotations_used} "
        f"annotation(s); dropped {summary.cancelled} cancelled/skipped",
        err=True,
    )
    if summary.unannotated:
        shown = ", ".join(summary.unannotated[:10]) + (" …" if len(summary.unannotated) > 10 else "")
        typer.echo(f"Warning: {len(summary.unannotated)} task(s) without annotation, not written: {shown}", err=True)
    if summary.ties:
        shown = ", ".join(f"{i}:{t}" for i, t in summary.ties[:10]) + (" …" if len(summary.ties) > 10 else "")
        typer.echo(
            f"Warning: {len(summary.ties)} tie(s) (theme chosen by half the annotators, left out): {shown}", err=True
        )
    typer.echo(json.dumps(summary.as_dict()))
