"""The `meldtekst` command line: one module a command, each a thin shell over a library function."""

from __future__ import annotations

from meldtekst.cli import (  # noqa: F401  (importing a command module registers its command)
    agreement,
    anonymize,
    basemodel,
    codebook,
    counts,
    evaluate,
    explain,
    labelstudio,
    models,
    qdpx,
    registry,
    report,
    spark,
    suggest,
    tag,
    train,
    validate,
    verify_sample,
)
from meldtekst.cli._app import app


def main() -> None:
    app(prog_name="meldtekst")


__all__ = ["app", "main"]
