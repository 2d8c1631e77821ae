"""Feature extractors for the linear model, as scikit-learn transformers.

`CodebookFeatures` turns the codebook's keyword patterns into per-theme counts,
split by ConText qualifier, so "er is geen melding gedaan" does not count as a
report of `vt_melding`. These encode the codebook's knowledge and carry over to
writing styles the training data lacks.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

from meldtekst.codebook import load_codebook
from meldtekst.text import QUALIFIERS, qualify


def keyword_matches(text: str) -> dict[str, list[tuple[int, int, str]]]:
    """Per theme, the (start, end, qualifier) of every codebook keyword match in ``text``."""
    out: dict[str, list[tuple[int, int, str]]] = {}
    for theme, pattern in load_codebook().keyword_patterns.items():
        hits = [(m.start(), m.end(), qualify(text, m.start(), m.end())) for m in pattern.finditer(text)]
        if hits:
            out[theme] = hits
    return out


class CodebookFeatures(TransformerMixin, BaseEstimator):
    """Counts of codebook keyword matches per theme and qualifier, log-scaled.

    ``qualifiers`` chooses which qualifier columns to emit; with
    ``use_context=False`` every match counts as affirmed (the ablation).
    """

    def __init__(self, use_context: bool = True, weight: float = 1.0) -> None:
        self.use_context = use_context
        self.weight = weight

    def fit(self, X: Iterable[str], y: object = None) -> CodebookFeatures:
        cb = load_codebook()
        self.theme_ids_ = [t for t in cb.ids if t in cb.keyword_patterns]
        self.qualifiers_ = list(QUALIFIERS) if self.use_context else ["affirmed"]
        return self

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([f"cb:{t}:{q}" for t in self.theme_ids_ for q in self.qualifiers_], dtype=object)

    def transform(self, X: Iterable[str]) -> sparse.csr_matrix:
        col = {(t, q): i for i, (t, q) in enumerate((t, q) for t in self.theme_ids_ for q in self.qualifiers_)}
        rows, cols, vals = [], [], []
        n = 0
        for i, text in enumerate(X):
            n += 1
            counts: dict[int, int] = {}
            for theme, hits in keyword_matches(text).items():
                for _, _, q in hits:
                    key = (theme, q if self.use_context else "affirmed")
                    if key in col:
                        counts[col[key]] = counts.get(col[key], 0) + 1
            for j, c in counts.items():
                rows.append(i)
                cols.append(j)
                vals.append(self.weight * np.log1p(c))
        return sparse.csr_matrix((vals, (rows, cols)), shape=(n, len(col)), dtype=np.float64)
