"""`meldtekst train`: fit a model from labelled reports, tracked in MLflow."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from meldtekst.cli._app import app
from meldtekst.errors import InputError


@app.command(
    "train", epilog="Example: meldtekst train data/meldingen.jsonl -c training/configs/fast.yaml -o models/mijn-model"
)
def train_cli(
    data: Path = typer.Argument(..., metavar="DATA", help="Labelled reports (JSONL/CSV/XLSX/Parquet, spec schema)."),
    extra: list[Path] = typer.Option(
        None,
        "--extra",
        help="More labelled reports (repeatable), e.g. from `labelstudio import`: merged after DATA, the newest "
        "label of an id wins, the rows without a split go to train.",
    ),
    config: Path = typer.Option(..., "--config", "-c", help="Training config YAML (training/configs/)."),
    output: Path = typer.Option(None, "--output", "-o", help="Model directory to write (default: models/NAME)."),
    base_model: str = typer.Option(None, "--base-model", help="Transformer base: e5-small, hub id or directory."),
    experiment: str = typer.Option("meldtekst", "--experiment", help="MLflow experiment name."),
    register: str = typer.Option(None, "--register", help="Register the model in the MLflow registry as NAME."),
    seed: int = typer.Option(None, "--seed", help="Override the config's seed."),
    no_track: bool = typer.Option(False, "--no-track", help="Do not log an MLflow run."),
) -> None:
    """Train a theme model (kind chosen by the config) and write its model directory."""
    if register and no_track:
        raise InputError("--register needs MLflow tracking; drop --no-track")
    from meldtekst.training import TrainConfig, train  # scikit-learn, MLflow: imported only when used

    cfg = TrainConfig.from_yaml(config)
    if seed is not None:
        cfg.seed = seed
    from meldtekst.models.store import models_home

    out = output or models_home() / cfg.name
    result = train(
        data,
        cfg,
        out,
        base_model=base_model,
        experiment=experiment,
        register=register,
        track=not no_track,
        extra=extra or (),
    )
    console = Console(stderr=True)
    td = result.model.meta.get("training_data", {})
    if extra:
        console.print(
            f"data: {td.get('file')} ({td.get('rows')} reports; {td.get('relabelled_ids', 0)} id(s) relabelled by a "
            f"later file, newest label kept; {td.get('added_ids', 0)} new)"
        )
    for split in ("dev", "test"):
        m = result.metrics.get(split)
        if m:
            console.print(f"{split}: micro-F1 {m['micro_f1']:.3f}  macro-F1 {m['macro_f1']:.3f}")
    console.print(
        f"model written to {result.output} in {result.seconds:.1f}s"
        + (f" (MLflow run {result.run_id})" if result.run_id else "")
    )
    out_json = {"output": str(result.output), "run_id": result.run_id}
    if result.registered_version:
        console.print(
            f"registered as {register} version {result.registered_version}; point an alias at it with "
            f"`meldtekst registry alias {register} production {result.registered_version}`"
        )
        out_json["registered"] = {"name": register, "version": result.registered_version}
    typer.echo(json.dumps(out_json))
