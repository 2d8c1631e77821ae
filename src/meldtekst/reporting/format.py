"""Dutch number formatting shared by the HTML and Markdown reports."""

from __future__ import annotations

import math
from typing import Any

MISSING = "–"
LOW_F1 = 0.6  # below this a theme's count is flagged as uncertain


def number(value: Any, *, percent: bool = False) -> str:
    """1.215 for counts, 12,3% for shares, 0,73 for other fractions, '–' for nothing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, float):
        if percent:
            return f"{100 * value:.1f}%".replace(".", ",")
        if value.is_integer() and abs(value) >= 10:
            return f"{int(value):,}".replace(",", ".")
        return f"{value:.2f}".replace(".", ",")
    return str(value)


def cell(value: Any, column: str, percent: tuple[str, ...]) -> str:
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    return number(value, percent=column in percent)
