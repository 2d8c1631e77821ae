"""Which encoder settings should `accurate` use? Depth (first N layers of e5-small) and window
length, measured for quality (test split and leave-one-writer-out), for int8/fp32 agreement
and for speed on ~250-token reports.

    python evaluation/encoder_variants.py                 # quality + agreement (all variants)
    python evaluation/encoder_variants.py --speed-only    # encoder speed only (quiet machine)

Each variant is the `accurate` config (training/configs/accurate.yaml) with ``layers`` and
``max_length`` replaced, fitted and scored exactly like the benchmark's systems (thresholds
from out-of-fold scores on the training part only). Agreement: the same fitted head on
PyTorch fp32 embeddings instead of ONNX int8, identical theme sets on the 189 test reports.
Speed: the encoder alone (tokenising, windows, ONNX int8, pooling) on 200 reports made of two
corpus reports each (median ~265 e5 tokens, like the issue's ~250-token target), texts/s,
median of 3 runs with all variants interleaved in each run.

Writes evaluation/results/encoder_variants.json (merged: --speed-only keeps quality numbers).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmark import SEED, fit_and_threshold, lowo

from meldtekst.evaluation import theme_metrics
from meldtekst.models import encoder as encoder_module
from meldtekst.models.encoder import EncoderThemeTagger
from meldtekst.training import TrainConfig, split_data
from meldtekst.validate import load_labelled

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "evaluation" / "results" / "encoder_variants.json"

# (label, layers, max_length); the first is accurate v2 as shipped before this comparison
VARIANTS = [
    ("12 layers, 256-token windows", 12, 256),
    ("12 layers, 512-token windows", 12, 512),
    ("8 layers, 512-token windows", 8, 512),
    ("6 layers, 512-token windows", 6, 512),
    ("4 layers, 512-token windows", 4, 512),
]


def estimator(layers: int, max_length: int) -> EncoderThemeTagger:
    cfg = TrainConfig.from_yaml(ROOT / "training" / "configs" / "accurate.yaml")
    params = {**cfg.model, "layers": layers, "max_length": max_length}
    return EncoderThemeTagger(random_state=cfg.seed, **params)


def long_reports(texts: list[str], n: int = 200) -> list[str]:
    rng = np.random.default_rng(SEED)
    pairs = rng.integers(0, len(texts), size=(n, 2))
    return [texts[i] + "\n\n" + texts[j] for i, j in pairs]


def quality(data, train, test, layers: int, max_length: int, do_lowo: bool) -> dict:
    est = estimator(layers, max_length)
    fitted, thr, seconds = fit_and_threshold(est, train, 5)
    proba = fitted.predict_proba(test.texts)
    pred = (proba >= thr).astype(int)
    m = theme_metrics(test.y, pred, data.theme_ids)
    fitted.backend = "torch"  # same head, fp32 encoder
    fitted._embedder = None
    proba32 = fitted.predict_proba(test.texts)
    pred32 = (proba32 >= thr).astype(int)
    same = float(np.mean((pred == pred32).all(axis=1)))
    out = {
        "test_macro_f1": round(m["macro_f1"], 4),
        "test_micro_f1": round(m["micro_f1"], 4),
        "test_macro_f1_fp32": round(theme_metrics(test.y, pred32, data.theme_ids)["macro_f1"], 4),
        "identical_theme_sets": round(same, 4),
        "differing_decisions": int((pred != pred32).sum()),
        "max_score_difference": round(float(np.abs(proba - proba32).max()), 4),
        "train_seconds": round(seconds, 1),
    }
    if do_lowo:
        out["lowo"] = lowo(estimator(layers, max_length), data)
    return out


def speed(texts: list[str], runs: int) -> dict[str, float]:
    from meldtekst.embedding import E5Embedder

    embedders = {
        label: E5Embedder("e5-small", backend="onnx-int8", max_length=L, layers=k, progress=False)
        for label, k, L in VARIANTS
    }
    tokens = [len(embedders[VARIANTS[1][0]].windows(t)[0][1]) for t in texts]
    times: dict[str, list[float]] = {label: [] for label in embedders}
    for _ in range(runs):
        for label, emb in embedders.items():
            start = time.perf_counter()
            emb.embed(texts)
            times[label].append(time.perf_counter() - start)
    result = {label: round(len(texts) / statistics.median(t), 1) for label, t in times.items()}
    result["median_tokens"] = float(np.median(tokens))
    result["reports"] = len(texts)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--no-lowo", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    data = load_labelled(ROOT / "data" / "meldingen.jsonl")
    train, _dev, test = split_data(data, SEED)
    previous = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores",
        "variants": previous.get("variants", {}),
    }
    if not args.speed_only:
        for label, k, L in VARIANTS:
            print(label, flush=True)
            result["variants"][label] = quality(data, train, test, k, L, not args.no_lowo)
            encoder_module._CACHE.clear()
            print("   ", result["variants"][label], flush=True)
    result["speed"] = speed(long_reports(data.texts), args.runs)
    result["speed_command"] = "python evaluation/encoder_variants.py --speed-only"
    print(result["speed"], flush=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
