"""The `fast` model: TF-IDF word and character n-grams plus codebook features, one-vs-rest
logistic regression. A scikit-learn estimator over raw texts, so it plugs into
cross-validation, grid search and calibration as is.

Features are counted per sentence and summed per report. Word and char_wb n-gram
counts and keyword matches are additive over sentences (only word bigrams across a
sentence boundary are lost), so one analysis pass yields both the report's features
and every sentence's, and the evidence sentence costs a matrix product instead of
a second pass over the text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from meldtekst.features import CodebookFeatures
from meldtekst.text import Sentence, normalize, sentences


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
        min_df: int = 2,
        max_word_features: int | None = 60_000,
        max_char_features: int | None = 80_000,
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
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state

    # ------------------------------------------------------------------ features

    @staticmethod
    def _split(texts: Sequence[str]) -> tuple[list[list[Sentence]], list[Sentence], sparse.csr_matrix]:
        per_doc = [sentences(t) if t and t.strip() else [] for t in texts]
        flat = [s for ss in per_doc for s in ss]
        owner = np.repeat(np.arange(len(per_doc)), [len(ss) for ss in per_doc])
        pool = sparse.csr_matrix(
            (np.ones(len(flat), dtype=np.float32), (owner, np.arange(len(flat)))), shape=(len(per_doc), len(flat))
        )
        return per_doc, flat, pool

    def _counts(self, texts: Sequence[str], per_doc: list[list[Sentence]]) -> list[sparse.csr_matrix]:
        """Raw counts per sentence (rows in reading order), one block per feature family."""
        flat = [s for ss in per_doc for s in ss]
        blocks = [self.word_.transform([s.tokens for s in flat])]
        if self.use_char:
            blocks.append(self.char_.transform([s.text for s in flat]))
        if self.use_codebook:
            spans = [[(s.start, s.end) for s in ss] for ss in per_doc]
            blocks.append(self.codebook_.sentence_counts(texts, spans))
        return blocks

    def _weigh(self, blocks: list[sparse.csr_matrix]) -> sparse.csr_matrix:
        """Raw counts (reports or sentences) -> the model's feature matrix."""
        out = [self.word_tfidf_.transform(blocks[0])]
        i = 1
        if self.use_char:
            out.append(self.char_tfidf_.transform(blocks[i]))
            i += 1
        if self.use_codebook:
            cb = blocks[i].astype(np.float32)
            cb.data = self.codebook_weight * np.log1p(cb.data)
            out.append(cb)
        return sparse.hstack(out, format="csr", dtype=np.float32)

    def _features(
        self, texts: Sequence[str]
    ) -> tuple[sparse.csr_matrix, list[list[Sentence]], list[sparse.csr_matrix]]:
        per_doc, flat, pool = self._split(texts)
        if not flat:
            width = self.n_features_
            empty = sparse.csr_matrix((len(per_doc), width), dtype=np.float32)
            return empty, per_doc, []
        sent_blocks = self._counts(texts, per_doc)
        doc_blocks = [(pool @ b).tocsr() for b in sent_blocks]
        return self._weigh(doc_blocks), per_doc, sent_blocks

    # ---------------------------------------------------------------------- API

    def fit(self, X: Sequence[str], y: np.ndarray) -> LinearThemeTagger:
        y = np.asarray(y)
        if y.ndim != 2:
            raise ValueError("y must be a 2-d indicator matrix (reports x themes)")
        texts = list(X)
        per_doc, _flat, pool = self._split(texts)
        # vocabularies and document frequencies are learnt on reports, not sentences
        doc_tokens = [[t for s in ss for t in s.tokens] for ss in per_doc]
        self.word_ = CountVectorizer(
            analyzer=WordNgrams(tuple(self.word_ngrams)),
            min_df=self.min_df,
            max_features=self.max_word_features,
            dtype=np.float32,
        ).fit(doc_tokens)
        if self.use_char:
            self.char_ = CountVectorizer(
                analyzer="char_wb",
                preprocessor=normalize,
                ngram_range=tuple(self.char_ngrams),
                min_df=self.min_df,
                max_features=self.max_char_features,
                dtype=np.float32,
            ).fit(texts)
        if self.use_codebook:
            self.codebook_ = CodebookFeatures(use_context=self.use_context, log_scale=False).fit(texts)
        doc_blocks = [(pool @ b).tocsr() for b in self._counts(texts, per_doc)]
        self.word_tfidf_ = TfidfTransformer(sublinear_tf=True).fit(doc_blocks[0])
        if self.use_char:
            self.char_tfidf_ = TfidfTransformer(sublinear_tf=True).fit(doc_blocks[1])
        Xf = self._weigh(doc_blocks)
        self.n_features_ = Xf.shape[1]
        base = LogisticRegression(
            C=self.C, class_weight=self.class_weight, solver="liblinear", random_state=self.random_state
        )
        # liblinear works in float64: convert once here, not once per theme
        self.classifier_ = OneVsRestClassifier(base).fit(Xf.astype(np.float64), y)
        for est in self.classifier_.estimators_:  # float32 weights halve the model file, same scores to ~1e-7
            est.coef_ = est.coef_.astype(np.float32)
        self.n_outputs_ = y.shape[1]
        self.thresholds_ = np.full(self.n_outputs_, 0.5)
        return self

    def transform(self, X: Sequence[str]) -> sparse.csr_matrix:
        return self._features(list(X))[0]

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        return self.classifier_.predict_proba(self.transform(X))

    def predict_with_sentences(self, X: Sequence[str]) -> tuple[np.ndarray, list[list[Sentence]], np.ndarray]:
        """Report probabilities plus every sentence's own probabilities (rows in reading order)."""
        Xd, per_doc, sent_blocks = self._features(list(X))
        doc_proba = self.classifier_.predict_proba(Xd)
        if not sent_blocks:
            return doc_proba, per_doc, np.zeros((0, self.n_outputs_))
        return doc_proba, per_doc, self.classifier_.predict_proba(self._weigh(sent_blocks))

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        return self.classifier_.decision_function(self.transform(X))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        return (self.predict_proba(X) >= self.thresholds_).astype(int)
