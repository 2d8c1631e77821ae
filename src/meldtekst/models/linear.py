"""The `fast` model: TF-IDF word and character n-grams plus codebook features, one-vs-rest
logistic regression. A scikit-learn estimator over raw texts, so it plugs into
cross-validation, grid search and calibration as is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion

from meldtekst.features import CodebookFeatures
from meldtekst.text import normalize, tokenize


class LinearThemeTagger(ClassifierMixin, BaseEstimator):
    """Multi-label theme tagger; ``predict`` applies ``thresholds_`` (0.5 until tuned)."""

    def __init__(
        self,
        *,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (2, 5),
        use_char: bool = True,
        use_codebook: bool = True,
        use_context: bool = True,
        codebook_weight: float = 1.0,
        min_df: int = 2,
        max_char_features: int | None = 200_000,
        C: float = 4.0,
        class_weight: str | None = "balanced",
        random_state: int = 0,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.use_char = use_char
        self.use_codebook = use_codebook
        self.use_context = use_context
        self.codebook_weight = codebook_weight
        self.min_df = min_df
        self.max_char_features = max_char_features
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state

    def _features(self) -> FeatureUnion:
        parts: list[tuple[str, object]] = [
            (
                "word",
                TfidfVectorizer(
                    tokenizer=tokenize,
                    token_pattern=None,
                    lowercase=False,
                    ngram_range=tuple(self.word_ngrams),
                    min_df=self.min_df,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            )
        ]
        if self.use_char:
            parts.append(
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char_wb",
                        preprocessor=normalize,
                        ngram_range=tuple(self.char_ngrams),
                        min_df=self.min_df,
                        max_features=self.max_char_features,
                        sublinear_tf=True,
                        dtype=np.float32,
                    ),
                )
            )
        if self.use_codebook:
            parts.append(("codebook", CodebookFeatures(use_context=self.use_context, weight=self.codebook_weight)))
        return FeatureUnion(parts)

    def fit(self, X: Sequence[str], y: np.ndarray) -> LinearThemeTagger:
        y = np.asarray(y)
        if y.ndim != 2:
            raise ValueError("y must be a 2-d indicator matrix (reports x themes)")
        self.features_ = self._features().fit(list(X))
        Xf = self.features_.transform(list(X))
        base = LogisticRegression(
            C=self.C, class_weight=self.class_weight, solver="liblinear", random_state=self.random_state
        )
        self.classifier_ = OneVsRestClassifier(base).fit(Xf, y)
        self.n_outputs_ = y.shape[1]
        self.thresholds_ = np.full(self.n_outputs_, 0.5)
        return self

    def transform(self, X: Sequence[str]):
        return self.features_.transform(list(X))

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        return self.classifier_.predict_proba(self.transform(X))

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        return self.classifier_.decision_function(self.transform(X))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        return (self.predict_proba(X) >= self.thresholds_).astype(int)
