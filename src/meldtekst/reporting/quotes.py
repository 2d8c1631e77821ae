"""Short de-identified example sentences per theme, taken from the evidence column of a tagged file."""

from __future__ import annotations

import math
import re

from meldtekst.anonymize import deidentify
from meldtekst.reporting.data import TaggedReports

MAX_QUOTE_CHARS = 300
_MIN_WORDS = 5


def shorten(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    cut = cut if cut > limit // 2 else limit - 1
    return text[:cut].rstrip(" ,;:-") + "…"


def pick_quotes(data: TaggedReports, per_theme: int, *, min_count: int = 5) -> dict[str, list[str]]:
    """Up to ``per_theme`` quotes for each theme with at least ``min_count`` reports.

    Sentences the model is most sure of come first; each is de-identified before it
    is shortened (so a name cut in half is still recognised), and a sentence is used
    for one theme only.
    """
    out: dict[str, list[str]] = {}
    used: set[str] = set()
    for j, theme in enumerate(data.theme_ids):
        rows = [i for i in range(len(data)) if data.assigned[i, j] and data.evidence[i].get(theme)]
        if per_theme <= 0 or int(data.assigned[:, j].sum()) < min_count or not rows:
            continue
        if data.scores is not None:
            rows.sort(key=lambda i: -_safe(data.scores[i, j]))  # type: ignore[index]
        picked: list[str] = []
        for i in rows:
            sentence = " ".join(data.evidence[i][theme].split())
            key = sentence.lower()
            if key in used or len(sentence.split()) < _MIN_WORDS:
                continue
            quote = shorten(deidentify(sentence).text)
            if not re.search(r"\w", quote):
                continue
            used.add(key)
            picked.append(quote)
            if len(picked) >= per_theme:
                break
        if picked:
            out[theme] = picked
    return out


def _safe(value: float) -> float:
    return -1.0 if value is None or math.isnan(value) else float(value)
