"""What the `fast` model needs at tagging time, with numpy and scipy.sparse only.

`LinearThemeTagger` learns with scikit-learn (CountVectorizer vocabularies, TfidfTransformer
idf, one-vs-rest logistic regression); what it learnt is a handful of arrays. Scoring from
those arrays directly keeps scikit-learn and skops out of `meldtekst tag`'s start-up (about
3 s of imports per run, more than tagging 10,000 reports takes) and lets the model be stored
as plain JSON + ``.npz`` (no pickle, nothing executable). The arithmetic is scikit-learn's:
`tests/test_linear_scorer.py` checks counts and scores against the fitted scikit-learn objects.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from meldtekst.text import QUALIFIERS, QUALIFIERS_V1, Sentence, normalize, sentences

STATE_JSON = "linear.json"
STATE_NPZ = "linear.npz"
FORMAT = 1


def char_wb_ngrams(word: str, lo: int, hi: int) -> list[str]:
    """scikit-learn's ``char_wb`` n-grams of one whitespace-free word (padded with spaces)."""
    w = f" {word} "
    out = []
    for n in range(lo, hi + 1):
        out.append(w[:n])
        offset = 0
        while offset + n < len(w):
            offset += 1
            out.append(w[offset : offset + n])
        if offset == 0:  # the word is shorter than n: it is counted once, as sklearn does
            break
    return out


def _csr(indices: list[int], indptr: list[int], width: int) -> sparse.csr_matrix:
    X = sparse.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), np.asarray(indices, dtype=np.int32), np.asarray(indptr)),
        shape=(len(indptr) - 1, width),
    )
    X.sum_duplicates()
    return X


def _tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """TfidfTransformer(sublinear_tf=True, norm="l2") with a learnt ``idf``, in float32 (the
    model's feature type: converting afterwards cost more than the arithmetic)."""
    X = counts.astype(np.float32, copy=True)
    np.log(X.data, out=X.data)
    X.data += 1.0
    X.data *= idf[X.indices]
    row_nnz = np.diff(X.indptr)
    sq = np.bincount(np.repeat(np.arange(X.shape[0]), row_nnz), weights=X.data**2, minlength=X.shape[0])
    norm = np.sqrt(sq).astype(np.float32)
    norm[norm == 0] = 1.0
    X.data /= np.repeat(norm, row_nnz)
    return X


def anchored_scores(doc_proba: np.ndarray, sent_proba: np.ndarray, sizes: Sequence[int], weight: float) -> np.ndarray:
    """Sentence-anchored theme scores: ``report_p ** (1 - weight) * best_sentence_p ** weight``.

    A report-level bag of words adds up weak cues spread over a long narrative; anchoring asks
    that one sentence supports the theme as well. Every route that scores a report (tag with and
    without evidence, the pyfunc, Spark, evaluation) goes through this one function, so they
    agree. A report without sentences keeps its report score.
    """
    if weight <= 0 or not len(sizes):
        return doc_proba
    sizes = np.asarray(sizes)
    best = doc_proba.copy()
    has = sizes > 0
    if has.any():
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])[has]
        best[has] = np.maximum.reduceat(sent_proba, starts, axis=0)
    if weight >= 1:
        return best
    return doc_proba ** (1.0 - weight) * best**weight


class LinearScorer:
    """Counts per sentence, TF-IDF, and one logistic regression per theme, from learnt arrays.

    Word and character n-gram counts are additive over sentences (only word bigrams across a
    sentence boundary are lost), so one pass gives both each sentence's counts and, pooled,
    the report's; the evidence sentence then costs a matrix product, not a second pass.
    """

    STATE_FILE = STATE_JSON  # its presence marks a directory in this format
    MAX_CACHE = 200_000  # words; a stream of reports keeps bringing new ones

    def __init__(
        self,
        *,
        word_terms: Sequence[str],
        word_ngrams: tuple[int, int],
        word_idf: np.ndarray,
        char_terms: Sequence[str] | None,
        char_ngrams: tuple[int, int],
        char_idf: np.ndarray | None,
        coef: np.ndarray,
        intercept: np.ndarray,
        use_codebook: bool = False,
        use_context: bool = True,
        codebook_weight: float = 1.0,
        sentence_weight: float = 0.0,
        qualifiers: Sequence[str] = QUALIFIERS,
    ) -> None:
        self.word_terms = list(word_terms)
        self.word_vocab = {t: i for i, t in enumerate(self.word_terms)}
        self.word_ngrams = (int(word_ngrams[0]), int(word_ngrams[1]))
        self.word_idf = np.asarray(word_idf, dtype=np.float32)
        self.char_terms = list(char_terms) if char_terms is not None else None
        self.char_vocab = {t: i for i, t in enumerate(self.char_terms)} if self.char_terms is not None else None
        self.char_ngrams = (int(char_ngrams[0]), int(char_ngrams[1]))
        self.char_idf = np.asarray(char_idf, dtype=np.float32) if char_idf is not None else None
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.use_codebook = use_codebook
        self.use_context = use_context
        self.codebook_weight = codebook_weight
        self.sentence_weight = float(sentence_weight)
        self.qualifiers = tuple(qualifiers)
        self._codebook: Any = None
        self._char_cache: dict[str, tuple[int, ...]] = {}
        self._coef_blocks: list[np.ndarray] | None = None  # coef split by feature family, on first use

    def with_head(self, coef: np.ndarray, intercept: np.ndarray) -> LinearScorer:
        """The same features scored by another head (the `accurate` model's sparse weights)."""
        new = copy.copy(self)
        new.coef = np.asarray(coef, dtype=np.float32)
        new.intercept = np.asarray(intercept, dtype=np.float64)
        if new.coef.shape != (self.n_outputs, self.n_features) or new.intercept.shape != (self.n_outputs,):
            raise ValueError(f"head of shape {new.coef.shape} does not fit {self.n_features} features")
        new._char_cache = {}
        new._coef_blocks = None
        return new

    # ------------------------------------------------------------------ counts

    @property
    def n_outputs(self) -> int:
        return int(self.coef.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[1])

    def word_counts(self, token_lists: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        vocab, (lo, hi) = self.word_vocab, self.word_ngrams
        indices: list[int] = []
        indptr = [0]
        for tokens in token_lists:
            if lo <= 1:
                indices.extend(vocab[t] for t in tokens if t in vocab)
            for n in range(max(2, lo), hi + 1):
                grams = (" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
                indices.extend(vocab[g] for g in grams if g in vocab)
            indptr.append(len(indices))
        return _csr(indices, indptr, len(self.word_terms))

    def char_counts(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """char_wb n-grams never cross whitespace, so a text's counts are the sum of its words'
        counts; reports repeat most words, so one cached look-up per word replaces ~20."""
        assert self.char_vocab is not None and self.char_terms is not None
        vocab, cache, (lo, hi) = self.char_vocab, self._char_cache, self.char_ngrams
        indices: list[int] = []
        indptr = [0]
        for text in texts:
            for w in normalize(text).split():
                ids = cache.get(w)
                if ids is None:
                    if len(cache) >= self.MAX_CACHE:
                        cache.clear()
                    ids = cache[w] = tuple(vocab[g] for g in char_wb_ngrams(w, lo, hi) if g in vocab)
                indices.extend(ids)
            indptr.append(len(indices))
        return _csr(indices, indptr, len(self.char_terms))

    def codebook(self) -> Any:
        if self._codebook is None:
            from meldtekst.features import CodebookFeatures

            self._codebook = CodebookFeatures(use_context=self.use_context, qualifiers=self.qualifiers)
        return self._codebook

    def counts(self, texts: Sequence[str], per_doc: list[list[Sentence]]) -> list[sparse.csr_matrix]:
        """Raw counts per sentence (rows in reading order), one block per feature family."""
        flat = [s for ss in per_doc for s in ss]
        blocks = [self.word_counts([s.tokens for s in flat])]
        if self.char_terms is not None:
            blocks.append(self.char_counts([s.text for s in flat]))
        if self.use_codebook:
            spans = [[(s.start, s.end) for s in ss] for ss in per_doc]
            blocks.append(self.codebook().sentence_counts(texts, spans))
        return blocks

    def weigh(self, blocks: Sequence[sparse.csr_matrix]) -> sparse.csr_matrix:
        """Raw counts (reports or sentences) -> the model's feature matrix."""
        return sparse.hstack(self._weigh_blocks(blocks), format="csr", dtype=np.float32)

    def _weigh_blocks(self, blocks: Sequence[sparse.csr_matrix]) -> list[sparse.csr_matrix]:
        out = [_tfidf(blocks[0], self.word_idf)]
        i = 1
        if self.char_terms is not None:
            assert self.char_idf is not None
            out.append(_tfidf(blocks[i], self.char_idf))
            i += 1
        if self.use_codebook:
            cb = blocks[i].astype(np.float32)
            cb.data = self.codebook_weight * np.log1p(cb.data)
            out.append(cb)
        return out

    def _block_proba(self, blocks: Sequence[sparse.csr_matrix]) -> np.ndarray:
        """`proba(weigh(blocks))` without stacking the blocks: each block times its slice of the
        weights (stacking ~10 million entries cost more than the products)."""
        weighted = self._weigh_blocks(blocks)
        if self._coef_blocks is None:
            bounds = np.cumsum([0, *(w.shape[1] for w in weighted)])
            self._coef_blocks = [np.ascontiguousarray(self.coef[:, a:b].T) for a, b in itertools.pairwise(bounds)]
        z = np.tile(self.intercept, (weighted[0].shape[0], 1))
        for w, c in zip(weighted, self._coef_blocks, strict=True):
            z += w @ c
        return 1.0 / (1.0 + np.exp(-z))

    @staticmethod
    def split(texts: Sequence[str]) -> tuple[list[list[Sentence]], sparse.csr_matrix]:
        """Sentences per report, and the reports x sentences matrix that sums sentences into reports."""
        per_doc = [sentences(t) if t and t.strip() else [] for t in texts]
        sizes = [len(ss) for ss in per_doc]
        owner = np.repeat(np.arange(len(per_doc)), sizes)
        pool = sparse.csr_matrix(
            (np.ones(len(owner), dtype=np.float32), (owner, np.arange(len(owner)))), shape=(len(per_doc), len(owner))
        )
        return per_doc, pool

    def features(self, texts: Sequence[str]) -> tuple[sparse.csr_matrix, list[list[Sentence]], list[sparse.csr_matrix]]:
        """(report feature matrix, sentences per report, per-sentence raw count blocks)."""
        texts = list(texts)
        per_doc, pool = self.split(texts)
        if not pool.shape[1]:
            return sparse.csr_matrix((len(texts), self.n_features), dtype=np.float32), per_doc, []
        sent_blocks = self.counts(texts, per_doc)
        doc_blocks = [(pool @ b).tocsr() for b in sent_blocks]
        return self.weigh(doc_blocks), per_doc, sent_blocks

    # ------------------------------------------------------------------ scores

    def decision(self, X: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(X @ self.coef.T, dtype=np.float64) + self.intercept

    def proba(self, X: sparse.csr_matrix) -> np.ndarray:
        """One-vs-rest logistic regression: each theme's own sigmoid, no normalisation across themes."""
        return 1.0 / (1.0 + np.exp(-self.decision(X)))

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.features(texts)[0]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self.sentence_weight > 0:
            return self.predict_with_sentences(texts)[0]
        return self.proba(self.transform(texts))

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        return self.decision(self.transform(texts))

    def predict_with_sentences(self, texts: Sequence[str]) -> tuple[np.ndarray, list[list[Sentence]], np.ndarray]:
        """Report scores (sentence-anchored when ``sentence_weight`` > 0) plus every sentence's own
        probabilities (rows in reading order)."""
        texts = list(texts)
        per_doc, pool = self.split(texts)
        if not pool.shape[1]:
            return self.proba(self.transform(texts)), per_doc, np.zeros((0, self.n_outputs))
        sent_blocks = self.counts(texts, per_doc)
        doc_proba = self._block_proba([(pool @ b).tocsr() for b in sent_blocks])
        sent_proba = self._block_proba(sent_blocks)
        sizes = [len(ss) for ss in per_doc]
        return anchored_scores(doc_proba, sent_proba, sizes, self.sentence_weight), per_doc, sent_proba

    # ------------------------------------------------------------- persistence

    def __getstate__(self) -> dict[str, Any]:
        """Compact state for pickle-like savers (`encoder` models saved with skops before the array
        format hold a scorer; `__setstate__` reads them back): term arrays, not dictionaries, and
        no caches."""
        caches = ("word_vocab", "char_vocab", "_char_cache", "_coef_blocks")
        state = {k: v for k, v in self.__dict__.items() if k not in caches}
        state["_codebook"] = None
        state["word_terms"] = np.asarray(self.word_terms, dtype=str)
        state["char_terms"] = np.asarray(self.char_terms, dtype=str) if self.char_terms is not None else None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("sentence_weight", 0.0)
        self.__dict__.setdefault("qualifiers", QUALIFIERS_V1)
        self.word_terms = [str(t) for t in state["word_terms"]]
        self.word_vocab = {t: i for i, t in enumerate(self.word_terms)}
        if state["char_terms"] is not None:
            self.char_terms = [str(t) for t in state["char_terms"]]
            self.char_vocab = {t: i for i, t in enumerate(self.char_terms)}
        else:
            self.char_vocab = None
        self._char_cache = {}
        self._coef_blocks = None

    def save(self, path: Path) -> None:
        state = {
            "format": FORMAT,
            "word_ngrams": list(self.word_ngrams),
            "char_ngrams": list(self.char_ngrams),
            "use_char": self.char_terms is not None,
            "use_codebook": self.use_codebook,
            "use_context": self.use_context,
            "codebook_weight": self.codebook_weight,
            "sentence_weight": self.sentence_weight,
            "qualifiers": list(self.qualifiers),
            "word_terms": self.word_terms,
            "char_terms": self.char_terms or [],
        }
        (path / STATE_JSON).write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        arrays = {"word_idf": self.word_idf, "coef": self.coef, "intercept": self.intercept}
        if self.char_idf is not None:
            arrays["char_idf"] = self.char_idf
        with (path / STATE_NPZ).open("wb") as fh:
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path: Path) -> LinearScorer:
        """Reads JSON and an ``.npz`` without pickle: loading a model file cannot run code."""
        state = json.loads((path / STATE_JSON).read_text(encoding="utf-8"))
        if state.get("format") != FORMAT:
            raise ValueError(f"unknown linear model format {state.get('format')!r}")
        with np.load(path / STATE_NPZ, allow_pickle=False) as arrays:
            return cls(
                word_terms=state["word_terms"],
                word_ngrams=tuple(state["word_ngrams"]),
                word_idf=arrays["word_idf"],
                char_terms=state["char_terms"] if state["use_char"] else None,
                char_ngrams=tuple(state["char_ngrams"]),
                char_idf=arrays["char_idf"] if state["use_char"] else None,
                coef=arrays["coef"],
                intercept=arrays["intercept"],
                use_codebook=state["use_codebook"],
                use_context=state["use_context"],
                codebook_weight=state["codebook_weight"],
                sentence_weight=state.get("sentence_weight", 0.0),  # models saved before anchoring: 0
                qualifiers=state.get("qualifiers", QUALIFIERS_V1),  # ... and before the generic qualifier
            )
