"""Codebook knowledge as features for the linear model (plain numpy/scipy: `meldtekst tag` does not
import scikit-learn).

`CodebookFeatures` turns the codebook's keyword patterns into per-theme counts,
split by ConText qualifier, so "er is geen melding gedaan" does not count as a
report of `vt_melding`. These encode the codebook's knowledge and carry over to
writing styles the training data lacks.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
from scipy import sparse

from meldtekst.codebook import load_codebook
from meldtekst.text import QUALIFIERS, qualify

_WORD_START = re.compile(r"(?<!\w)\w")


def keyword_matches(text: str, *, generic: bool = True) -> dict[str, list[tuple[int, int, str]]]:
    """Per theme, the (start, end, qualifier) of every codebook keyword match in ``text``
    (``generic=False``: the qualifiers of models trained before the generic qualifier)."""
    out: dict[str, list[tuple[int, int, str]]] = {}
    patterns = load_codebook().keyword_patterns
    table, covered = _anchor_table()
    lowered = text.lower()
    starts: dict[str, list[int]] = {}
    if len(lowered) == len(text):  # lower() can lengthen a few characters (e.g. "İ"): then scan fully
        for m in _WORD_START.finditer(text):
            p = m.start()
            for theme, anchor in table.get(lowered[p : p + 2], ()):
                if lowered.startswith(anchor, p):
                    starts.setdefault(theme, []).append(p)
    else:
        covered = frozenset()
    for theme, pattern in patterns.items():
        full_scan = theme not in covered
        found = list(pattern.finditer(text)) if full_scan else _matches_at(pattern, text, starts.get(theme, ()))
        if found:
            out[theme] = [(m.start(), m.end(), qualify(text, m.start(), m.end(), generic=generic)) for m in found]
    return out


@lru_cache(maxsize=1)
def _anchor_table() -> tuple[dict[str, tuple[tuple[str, str], ...]], frozenset[str]]:
    """(theme, anchor) pairs by the anchor's first two characters, for the themes whose anchors
    (`Codebook.keyword_anchors`) all start with a word character, and the set of those themes."""
    table: dict[str, list[tuple[str, str]]] = {}
    covered = set()
    for theme, anchors in load_codebook().keyword_anchors.items():
        if all(re.match(r"\w\w", a) for a in anchors):
            covered.add(theme)
            for a in anchors:
                table.setdefault(a[:2], []).append((theme, a))
    return {k: tuple(v) for k, v in table.items()}, frozenset(covered)


def _matches_at(pattern: re.Pattern[str], text: str, starts: Iterable[int]) -> list[re.Match]:
    r"""``pattern.finditer(text)``, tried only at the given candidate starts.

    Every match starts with one of its theme's literal anchors and, by the pattern's
    ``(?<!\w)``, at a word start; trying the pattern at word starts where an anchor begins,
    left to right and never inside the previous match, finds exactly what a full scan finds
    (tests/test_codebook.py) without running the regex at every character of every report.
    """
    found = []
    end = 0
    for pos in sorted(set(starts)):
        if pos < end:
            continue
        m = pattern.match(text, pos)
        if m is not None and m.end() > m.start():
            found.append(m)
            end = m.end()
    return found


class CodebookFeatures:
    """Counts of codebook keyword matches per theme and qualifier, per sentence.

    With ``use_context=False`` every match counts as affirmed (the ablation).
    """

    def __init__(self, use_context: bool = True, qualifiers: Sequence[str] = QUALIFIERS) -> None:
        self.use_context = use_context
        cb = load_codebook()
        self.theme_ids = [t for t in cb.ids if t in cb.keyword_patterns]
        self.qualifiers = list(qualifiers) if use_context else ["affirmed"]
        self.generic = "generic" in self.qualifiers

    def sentence_counts(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> sparse.csr_matrix:
        """Raw match counts per sentence: matching runs once per report (22 regex scans,
        not 22 per sentence) and each match is credited to the sentence holding its start."""
        col = {(t, q): i for i, (t, q) in enumerate((t, q) for t in self.theme_ids for q in self.qualifiers)}
        rows, cols = [], []
        base = 0
        for text, sent_spans in zip(texts, spans, strict=True):
            if sent_spans:
                starts = [a for a, _ in sent_spans]
                for theme, hits in keyword_matches(text, generic=self.generic).items():
                    for a, _, q in hits:
                        key = (theme, q if self.use_context else "affirmed")
                        k = bisect.bisect_right(starts, a) - 1
                        if key in col and k >= 0 and a < sent_spans[k][1]:
                            rows.append(base + k)
                            cols.append(col[key])
            base += len(sent_spans)
        vals = np.ones(len(rows), dtype=np.float32)
        m = sparse.csr_matrix((vals, (rows, cols)), shape=(base, len(col)), dtype=np.float32)
        m.sum_duplicates()
        return m
