"""`python -m meldtekst` runs the CLI."""

from meldtekst.cli import main

main()
