"""Short de-identified example sentences per theme, taken from the evidence column of a tagged file,
optionally with the words that raise the theme highlighted.

Each quote is de-identified with its whole report as context
(`meldtekst.anonymize.deidentify_in_context`): a child's name written capitalised once elsewhere
in the report and in lower case in the quoted sentence ("mats zit thuis") is only recognisable
from the report, so every name or identifier found anywhere in the report is replaced in the
quote too.

Highlights are occlusion explanations (`meldtekst.explain`) computed on the de-identified
sentence itself, never on the raw text: their offsets refer to exactly the text a reader
sees, and nothing the de-identification removed can come back inside a highlight.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from meldtekst.anonymize import deidentify, deidentify_in_context
from meldtekst.reporting.data import TaggedReports

if TYPE_CHECKING:
    from meldtekst.explain import SpanWeight
    from meldtekst.models.store import ThemeModelDir

MAX_QUOTE_CHARS = 300
# A one-sentence quote with five marks reads as mostly marked; three keeps the strongest words.
QUOTE_SPANS = 3
_MIN_WORDS = 5
_TRAILING = " ,;:-"


@dataclass(frozen=True)
class Quote:
    """A de-identified example sentence and its highlights (offsets into ``text``, strongest first)."""

    text: str
    spans: tuple[SpanWeight, ...] = field(default=())

    def __str__(self) -> str:
        return self.text

    def segments(self) -> list[tuple[str, bool]]:
        """``text`` as (piece, highlighted) pairs in order. Overlapping spans and spans apart by
        white space only merge into one mark: "zit al maanden thuis" reads as one phrase, not
        four marks, and a renderer never opens a mark inside another or two back to back."""
        merged: list[list[int]] = []
        for s in sorted(self.spans, key=lambda s: s.start):
            if merged and (s.start <= merged[-1][1] or not self.text[merged[-1][1] : s.start].strip()):
                merged[-1][1] = max(merged[-1][1], s.end)
            else:
                merged.append([s.start, s.end])
        out: list[tuple[str, bool]] = []
        pos = 0
        for start, end in merged:
            if start > pos:
                out.append((self.text[pos:start], False))
            out.append((self.text[start:end], True))
            pos = end
        if pos < len(self.text):
            out.append((self.text[pos:], False))
        return out


def shorten(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    cut = cut if cut > limit // 2 else limit - 1
    return text[:cut].rstrip(_TRAILING) + "…"


def window(text: str, spans: tuple[SpanWeight, ...] = (), limit: int = MAX_QUOTE_CHARS) -> Quote:
    """At most ``limit`` characters of ``text`` (whitespace already folded) with the spans that
    fit whole, offsets moved to the shortened text.

    Without spans, or when the strongest span lies in what `shorten` keeps, this is
    `shorten`; otherwise the window is centred on the strongest span (``spans[0]``), cut at
    word boundaries, with an ellipsis on each cut side. A span the cut would halve is dropped,
    never shown in part.
    """
    if len(text) <= limit:
        return Quote(text, tuple(spans))
    head = shorten(text, limit)
    kept = len(head) - 1  # without the ellipsis
    if not spans or spans[0].end <= kept or spans[0].end - spans[0].start > limit - 2:
        return Quote(head, tuple(s for s in spans if s.end <= kept))
    anchor = spans[0]
    budget = limit - 2  # room for an ellipsis on both sides
    lo = max(0, min(anchor.start - (budget - (anchor.end - anchor.start)) // 2, len(text) - budget))
    if lo > 0:
        space = text.find(" ", lo - 1, anchor.start)
        lo = space + 1 if space >= 0 else anchor.start
    hi = min(len(text), lo + budget)
    if hi < len(text):
        space = text.rfind(" ", anchor.end, hi + 1)
        hi = space if space >= 0 else hi
    piece = text[lo:hi].rstrip(_TRAILING) if hi < len(text) else text[lo:hi]
    prefix = "…" if lo > 0 else ""
    shown = prefix + piece + ("…" if hi < len(text) else "")
    shift, end = len(prefix) - lo, lo + len(piece)
    inside = tuple(replace(s, start=s.start + shift, end=s.end + shift) for s in spans if lo <= s.start <= s.end <= end)
    return Quote(shown, inside)


def pick_quotes(
    data: TaggedReports,
    per_theme: int,
    *,
    min_count: int = 5,
    model: ThemeModelDir | None = None,
    spans: int = QUOTE_SPANS,
) -> dict[str, list[Quote]]:
    """Up to ``per_theme`` quotes for each theme with at least ``min_count`` reports.

    Sentences the model is most sure of come first; each is de-identified before it is
    explained and shortened (so a name cut in half is still recognised, and no highlight
    can hold what was replaced), and a sentence is used for one theme only. With ``model``,
    each quote carries up to ``spans`` highlights for its theme, measured on the shown text.
    """
    out: dict[str, list[Quote]] = {}
    used: set[str] = set()
    for j, theme in enumerate(data.theme_ids):
        rows = [i for i in range(len(data)) if data.assigned[i, j] and data.evidence[i].get(theme)]
        if per_theme <= 0 or int(data.assigned[:, j].sum()) < min_count or not rows:
            continue
        if data.scores is not None:
            rows.sort(key=lambda i: -_safe(data.scores[i, j]))  # type: ignore[index]
        picked: list[Quote] = []
        for i in rows:
            sentence = " ".join(data.evidence[i][theme].split())
            key = sentence.lower()
            if key in used or len(sentence.split()) < _MIN_WORDS:
                continue
            clean = " ".join(_deidentify(sentence, data.texts[i] if data.texts is not None else None).split())
            if not re.search(r"\w", shorten(clean)):
                continue
            used.add(key)
            picked.append(window(clean, highlights(model, clean, theme, spans) if model is not None else ()))
            if len(picked) >= per_theme:
                break
        if picked:
            out[theme] = picked
    return out


def _deidentify(sentence: str, report_text: str | None) -> str:
    """The sentence de-identified with its whole report as context (alone when the file has no text)."""
    if report_text and report_text.strip():
        return deidentify_in_context(sentence, report_text).text
    return deidentify(sentence).text


def highlights(model: ThemeModelDir, text: str, theme: str, k: int = QUOTE_SPANS) -> tuple[SpanWeight, ...]:
    """The top ``k`` occlusion spans of ``theme`` in ``text`` (strongest first); none for a theme
    the model does not know."""
    from meldtekst.explain import explain_scores

    if theme not in model.theme_ids or k < 1:
        return ()
    _full, found = explain_scores(model, text, [model.theme_ids.index(theme)], k=k)
    return tuple(found.get(theme, ()))


def _safe(value: float) -> float:
    return -1.0 if value is None or math.isnan(value) else float(value)
