"""The `fast` model: TF-IDF word and character n-grams plus codebook features, one-vs-rest
logistic regression. A scikit-learn estimator over raw texts, so it plugs into
cross-validation, grid search and calibration as is.

It learns with scikit-learn and keeps what it learnt as a `LinearScorer` (numpy and
scipy.sparse only), which does all feature extraction and scoring, at training time and
at tagging time alike; a saved model is that scorer's arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from meldtekst.models.linear_scorer import LinearScorer
from meldtekst.text import QUALIFIERS, QUALIFIERS_V1, Sentence, normalize

# An n-gram is kept only when at least this many different reports contain it: the vocabulary is
# stored in the model, and a term from one or two reports could be a name, a phone number or a
# case detail. Training text is de-identified first as well (`TrainConfig.deidentify`). `meldtekst
# train` refuses a smaller min_df; the estimator itself accepts one for ablation studies.
MIN_TERM_REPORTS = 3


class WordNgrams:
    """Analyzer over pre-tokenised sentences: word n-grams from tokens spaCy already made."""

    def __init__(self, ngram_range: tuple[int, int] = (1, 2)) -> None:
        self.ngram_range = tuple(ngram_range)

    def __call__(self, tokens: Sequence[str]) -> list[str]:
        lo, hi = self.ngram_range
        out = list(tokens) if lo <= 1 else []
        for n in range(max(2, lo), hi + 1):
            out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return out


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
        min_df: int = MIN_TERM_REPORTS,
        max_word_features: int | None = 60_000,
        max_char_features: int | None = 80_000,
        C: float = 4.0,
        class_weight: str | None = "balanced",
        sentence_weight: float = 0.0,
        generic_context: bool = True,
        random_state: int = 0,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.use_char = use_char
        self.use_codebook = use_codebook
        self.use_context = use_context
        self.codebook_weight = codebook_weight
        self.min_df = min_df
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.C = C
        self.class_weight = class_weight
        self.sentence_weight = sentence_weight
        self.generic_context = generic_context
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting

    def fit(self, X: Sequence[str], y: np.ndarray) -> LinearThemeTagger:
        y = np.asarray(y)
        if y.ndim != 2:
            raise ValueError("y must be a 2-d indicator matrix (reports x themes)")
        texts = list(X)
        per_doc, pool = LinearScorer.split(texts)
        # vocabularies and document frequencies are learnt on reports, not sentences
        doc_tokens = [[t for s in ss for t in s.tokens] for ss in per_doc]
        word = CountVectorizer(
            analyzer=WordNgrams(tuple(self.word_ngrams)),
            min_df=self.min_df,
            max_features=self.max_word_features,
            dtype=np.float32,
        ).fit(doc_tokens)
        char = None
        if self.use_char:
            char = CountVectorizer(
                analyzer="char_wb",
                preprocessor=normalize,
                ngram_range=tuple(self.char_ngrams),
                min_df=self.min_df,
                max_features=self.max_char_features,
                dtype=np.float32,
            ).fit(texts)
        scorer = LinearScorer(
            word_terms=_terms(word),
            word_ngrams=tuple(self.word_ngrams),
            word_idf=np.ones(len(word.vocabulary_)),
            char_terms=_terms(char) if char is not None else None,
            char_ngrams=tuple(self.char_ngrams),
            char_idf=np.ones(len(char.vocabulary_)) if char is not None else None,
            coef=np.zeros((y.shape[1], 0)),
            intercept=np.zeros(y.shape[1]),
            use_codebook=self.use_codebook,
            use_context=self.use_context,
            codebook_weight=self.codebook_weight,
            sentence_weight=self.sentence_weight,
            qualifiers=QUALIFIERS if self.generic_context else QUALIFIERS_V1,
        )
        doc_blocks = [(pool @ b).tocsr() for b in scorer.counts(texts, per_doc)]
        scorer.word_idf = TfidfTransformer(sublinear_tf=True).fit(doc_blocks[0]).idf_.astype(np.float32)
        if char is not None:
            scorer.char_idf = TfidfTransformer(sublinear_tf=True).fit(doc_blocks[1]).idf_.astype(np.float32)
        Xf = scorer.weigh(doc_blocks)
        base = LogisticRegression(
            C=self.C, class_weight=self.class_weight, solver="liblinear", random_state=self.random_state
        )
        # liblinear works in float64: convert once here, not once per theme
        coef, scorer.intercept = ovr_weights(OneVsRestClassifier(base).fit(Xf.astype(np.float64), y))
        scorer.coef = coef.astype(np.float32)  # halves the model file, same scores to ~1e-7
        self.scorer_ = scorer
        self.n_features_ = Xf.shape[1]
        self.n_outputs_ = y.shape[1]
        self.thresholds_ = np.full(self.n_outputs_, 0.5)
        return self

    # ---------------------------------------------------------------------- API

    def transform(self, X: Sequence[str]) -> sparse.csr_matrix:
        return self.scorer_.transform(list(X))

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        return self.scorer_.predict_proba(list(X))

    def predict_with_sentences(self, X: Sequence[str]) -> tuple[np.ndarray, list[list[Sentence]], np.ndarray]:
        """Report probabilities plus every sentence's own probabilities (rows in reading order)."""
        return self.scorer_.predict_with_sentences(list(X))

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        return self.scorer_.decision_function(list(X))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        return (self.predict_proba(X) >= self.thresholds_).astype(int)

    def __setstate__(self, state: dict) -> None:
        """Models saved before the scorer existed (skops, with fitted scikit-learn parts) still load."""
        super().__setstate__(state)
        if "scorer_" not in state and "classifier_" in state:
            self.scorer_ = scorer_from_sklearn(self)


def _terms(vectorizer: CountVectorizer) -> list[str]:
    terms = [""] * len(vectorizer.vocabulary_)
    for term, i in vectorizer.vocabulary_.items():
        terms[i] = term
    return terms


def ovr_weights(ovr: OneVsRestClassifier) -> tuple[np.ndarray, np.ndarray]:
    """(weights, themes x features; intercepts) of a fitted one-vs-rest logistic regression."""
    coef = np.vstack([m.coef_[0] for m in ovr.estimators_])
    return coef, np.asarray([float(m.intercept_[0]) for m in ovr.estimators_])


def scorer_from_sklearn(est: object) -> LinearScorer:
    """A `LinearScorer` from an older model's fitted scikit-learn objects."""
    e: dict = vars(est)
    char = e.get("char_") if e.get("use_char", True) else None
    coef, intercept = ovr_weights(e["classifier_"])
    return LinearScorer(
        word_terms=_terms(e["word_"]),
        word_ngrams=tuple(e["word_ngrams"]),
        word_idf=e["word_tfidf_"].idf_,
        char_terms=_terms(char) if char is not None else None,
        char_ngrams=tuple(e["char_ngrams"]),
        char_idf=e["char_tfidf_"].idf_ if char is not None else None,
        coef=coef,
        intercept=intercept,
        use_codebook=e.get("use_codebook", False),
        use_context=e.get("use_context", True),
        codebook_weight=e.get("codebook_weight", 1.0),
        qualifiers=QUALIFIERS_V1,
    )
