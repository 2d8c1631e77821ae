"""meldtekst: tag Dutch reports to a parents' meldpunt with themes from a fixed codebook."""

__version__ = "0.1.0"
