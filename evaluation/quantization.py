"""Does int8 change what `accurate` tags? Its encoder run in fp32 (PyTorch) and in ONNX int8 side by
side on the test split: identical theme sets, score differences, macro-F1, and encoder speed.

    python evaluation/quantization.py        # writes evaluation/results/quantization.json

Goal (issue #14): >= 99 % of test reports get the same theme set with int8 as with fp32.
Timings are medians of 3 runs over the same texts, both backends in one process, one after the
other; the embedding cache is cleared before each run so every run really encodes.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from meldtekst.evaluation import theme_metrics
from meldtekst.models import encoder as encoder_module
from meldtekst.models.store import load_model
from meldtekst.training import split_data
from meldtekst.validate import load_labelled

ROOT = Path(__file__).resolve().parents[1]


def scores_with(model, texts: list[str], backend: str) -> tuple[np.ndarray, float]:
    est = model.estimator
    est.backend = backend
    est._embedder = None
    encoder_module._CACHE.clear()
    start = time.perf_counter()
    scores = model.predict_proba(texts)
    return scores, time.perf_counter() - start


def main() -> None:
    data = load_labelled(ROOT / "data" / "meldingen.jsonl")
    _, _, test = split_data(data, 13)
    assert test is not None
    model = load_model("accurate")
    texts = list(test.texts)
    runs: dict[str, list[float]] = {"torch": [], "onnx-int8": []}
    scores: dict[str, np.ndarray] = {}
    for _ in range(3):
        for backend in runs:
            s, seconds = scores_with(model, texts, backend)
            scores[backend] = s
            runs[backend].append(seconds)
    fp32, int8 = scores["torch"], scores["onnx-int8"]
    sets32, sets8 = fp32 >= model.thresholds, int8 >= model.thresholds
    same = (sets32 == sets8).all(axis=1)
    result = {
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, {__import__('os').cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d"),
        "reports": len(texts),
        "identical_theme_sets": round(float(same.mean()), 4),
        "reports_differing": int((~same).sum()),
        "theme_decisions_differing": int((sets32 != sets8).sum()),
        "max_abs_score_diff": round(float(np.abs(fp32 - int8).max()), 4),
        "median_abs_score_diff": round(float(np.median(np.abs(fp32 - int8))), 5),
        "macro_f1": {
            "fp32": round(theme_metrics(test.y, sets32.astype(int), data.theme_ids)["macro_f1"], 4),
            "int8": round(theme_metrics(test.y, sets8.astype(int), data.theme_ids)["macro_f1"], 4),
        },
        "reports_per_s": {b: round(len(texts) / statistics.median(t), 1) for b, t in runs.items()},
        "seconds_runs": {b: [round(x, 1) for x in t] for b, t in runs.items()},
    }
    out = ROOT / "evaluation" / "results" / "quantization.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
