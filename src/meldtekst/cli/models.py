"""`meldtekst models`: which models can tag, and how good and fast each measured."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from meldtekst.cli._app import app
from meldtekst.models.store import builtin_names, default_model_name, models_home, read_meta


@app.command("models", epilog="Example: meldtekst models --json")
def models_cli(
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    registry: bool = typer.Option(True, "--registry/--no-registry", help="Also list MLflow registry models."),
) -> None:
    """List built-in and registered models with test and leave-one-writer-out macro-F1 and speed."""
    rows = []
    default = default_model_name()
    for name in builtin_names():
        meta = read_meta(models_home() / name)
        m = meta.get("metrics", {})
        bench = meta.get("benchmark", {})
        rows.append(
            {
                "model": name,
                "default": name == default,
                "kind": meta["kind"],
                "version": meta.get("version"),
                "test_macro_f1": m.get("test", {}).get("macro_f1"),
                "lowo_macro_f1": bench.get("lowo_macro_f1"),
                "reports_per_second": bench.get("reports_per_second"),
            }
        )
    if registry:
        from meldtekst.tracking import list_registered

        for reg in list_registered():
            uri = f"models:/{reg['name']}@{reg['alias']}" if reg["alias"] else f"models:/{reg['name']}/{reg['version']}"
            rows.append({"model": uri, "default": False, "kind": "registry", "version": reg["version"]})
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="meldtekst models")
    for col in ("model", "kind", "version", "test macro-F1", "LOWO macro-F1", "reports/s"):
        table.add_column(col)

    def fmt(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) and v <= 1 else ("" if v is None else str(v))

    for r in rows:
        name = r["model"] + (" (default)" if r.get("default") else "")
        table.add_row(
            name,
            str(r["kind"]),
            str(r.get("version") or ""),
            fmt(r.get("test_macro_f1")),
            fmt(r.get("lowo_macro_f1")),
            fmt(r.get("reports_per_second")),
        )
    Console().print(table)
