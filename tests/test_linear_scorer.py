"""The numpy scorer behind the linear model computes what scikit-learn computes."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from meldtekst.errors import ModelError
from meldtekst.models.linear import LinearThemeTagger, WordNgrams, scorer_from_sklearn
from meldtekst.models.linear_scorer import STATE_NPZ, LinearScorer, char_wb_ngrams
from meldtekst.models.store import load_model_dir
from meldtekst.text import normalize

REPO = Path(__file__).resolve().parents[1]


class _Fitted:
    """The attributes a pre-scorer LinearThemeTagger had: fitted scikit-learn parts."""


@pytest.fixture(scope="module")
def sklearn_parts(corpus_rows):
    texts = [r["tekst"] for r in corpus_rows[:120]]
    y = np.array([[int(i % 3 == j) for j in range(3)] for i in range(len(texts))])
    sc = LinearScorer.split(texts)
    per_doc, pool = sc
    flat = [s for ss in per_doc for s in ss]
    word = CountVectorizer(analyzer=WordNgrams((1, 2)), min_df=2, dtype=np.float32).fit(
        [[t for s in ss for t in s.tokens] for ss in per_doc]
    )
    char = CountVectorizer(
        analyzer="char_wb", preprocessor=normalize, ngram_range=(2, 5), min_df=2, dtype=np.float32
    ).fit(texts)
    W = pool @ word.transform([s.tokens for s in flat])
    C = pool @ char.transform([s.text for s in flat])
    wt, ct = TfidfTransformer(sublinear_tf=True).fit(W), TfidfTransformer(sublinear_tf=True).fit(C)
    X = sparse.hstack([wt.transform(W), ct.transform(C)], format="csr")
    ovr = OneVsRestClassifier(LogisticRegression(solver="liblinear")).fit(X, y)
    old = _Fitted()
    old.__dict__.update(
        word_=word,
        char_=char,
        word_tfidf_=wt,
        char_tfidf_=ct,
        classifier_=ovr,
        word_ngrams=(1, 2),
        char_ngrams=(2, 5),
        use_char=True,
        use_codebook=False,
    )
    return texts, old, X, ovr


def test_counts_and_scores_equal_sklearn(sklearn_parts):
    texts, old, X, ovr = sklearn_parts
    scorer = scorer_from_sklearn(old)
    per_doc, _ = scorer.split(texts)
    flat = [s for ss in per_doc for s in ss]
    W, C = scorer.counts(texts, per_doc)
    assert (old.word_.transform([s.tokens for s in flat]) != W).nnz == 0
    assert (old.char_.transform([s.text for s in flat]) != C).nnz == 0
    np.testing.assert_allclose(scorer.transform(texts).toarray(), X.toarray(), atol=1e-6)
    np.testing.assert_allclose(scorer.predict_proba(texts), ovr.predict_proba(X), atol=1e-5)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40), st.integers(1, 3), st.integers(0, 3))
def test_char_wb_ngrams_match_sklearn(text, lo, extra):
    vec = CountVectorizer(analyzer="char_wb", ngram_range=(lo, lo + extra), lowercase=False)
    analyze = vec.build_analyzer()
    ours = [g for w in text.split() for g in char_wb_ngrams(w, lo, lo + extra)]
    assert ours == analyze(" ".join(text.split()))


def test_saved_model_is_plain_arrays_and_round_trips(tiny_model, corpus_rows):
    texts = [r["tekst"] for r in corpus_rows[:20]]
    model = load_model_dir(tiny_model)
    assert isinstance(model.estimator, LinearScorer)
    with zipfile.ZipFile(tiny_model / STATE_NPZ) as z:  # an .npz is a zip of .npy files: no pickles inside
        assert all(n.endswith(".npy") for n in z.namelist())
    again = LinearScorer.__new__(LinearScorer)
    again.__setstate__(model.estimator.__getstate__())
    np.testing.assert_allclose(again.predict_proba(texts), model.predict_proba(texts))


def test_corrupt_arrays_are_one_model_error(tiny_model, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(tiny_model, bad)
    (bad / STATE_NPZ).write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="cannot load model weights"):
        load_model_dir(bad)


def test_fit_result_scores_like_its_saved_scorer(tiny_model, small_labelled, corpus_rows):
    est = LinearThemeTagger(char_ngrams=(3, 4))
    texts = [r["tekst"] for r in corpus_rows[:60]]
    y = np.array([[int(i % 2 == j) for j in range(2)] for i in range(len(texts))])
    est.fit(texts, y)
    assert est.predict_proba(texts).shape == (60, 2)
    np.testing.assert_allclose(est.predict_proba(texts), est.scorer_.predict_proba(texts))


def test_tagging_with_the_default_model_imports_neither_sklearn_nor_torch():
    """What `meldtekst tag` pays before the first report: no scikit-learn, skops or torch imports."""
    code = (
        "import sys; from meldtekst.models.store import load_model; from meldtekst.tagging import tag_texts; "
        "m = load_model(None); tag_texts(m, ['De school noemt zich handelingsverlegen.']); "
        "print(sorted(k for k in ('sklearn', 'torch', 'skops') if k in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"
