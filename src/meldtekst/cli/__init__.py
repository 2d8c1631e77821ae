"""The `meldtekst` command line: one module a command, each a thin shell over a library function."""

from __future__ import annotations

from meldtekst.cli import codebook, evaluate, tag, train, validate  # noqa: F401  (registers commands)
from meldtekst.cli._app import app


def main() -> None:
    app(prog_name="meldtekst")


__all__ = ["app", "main"]
