"""Baselines the shipped models are measured against (used by benchmark.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from meldtekst.codebook import load_codebook
from meldtekst.features import keyword_matches


class KeywordRules(ClassifierMixin, BaseEstimator):
    """A theme is present when one of its codebook keywords matches and is not negated,
    hypothetical or about someone else: the rules an analyst would write from the codebook."""

    def fit(self, X: Sequence[str], y: np.ndarray | None = None) -> KeywordRules:
        self.theme_ids_ = load_codebook().ids
        return self

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(X), len(self.theme_ids_)))
        index = {t: j for j, t in enumerate(self.theme_ids_)}
        for i, text in enumerate(X):
            for theme, hits in keyword_matches(text).items():
                if any(q == "affirmed" for _, _, q in hits):
                    out[i, index[theme]] = 1.0
        return out


class EmbeddingHead(ClassifierMixin, BaseEstimator):
    """A frozen sentence encoder plus one-vs-rest logistic regression on its embeddings.

    ``embed`` maps texts to an (n, d) array; a cache dict keyed by text spares
    re-encoding the same reports across folds.
    """

    def __init__(self, embed: Callable[[list[str]], np.ndarray], C: float = 4.0, cache: dict | None = None) -> None:
        self.embed = embed
        self.C = C
        self.cache = cache

    def _X(self, texts: Sequence[str]) -> np.ndarray:
        cache = self.cache if self.cache is not None else {}
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            for t, v in zip(missing, self.embed(missing), strict=True):
                cache[t] = v
        return np.vstack([cache[t] for t in texts])

    def fit(self, X: Sequence[str], y: np.ndarray) -> EmbeddingHead:
        base = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000)
        self.clf_ = OneVsRestClassifier(base).fit(self._X(list(X)), y)
        return self

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        return self.clf_.predict_proba(self._X(list(X)))
