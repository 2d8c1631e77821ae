"""Does int8 change what `accurate` tags? Its encoder run in fp32 (PyTorch) and in ONNX int8 side by
side on the test split: identical theme sets, score differences, macro-F1, and encoder speed.

    python evaluation/quantization.py [--variants]   # writes evaluation/results/quantization.json

With --variants it also quantises the same fp32 ONNX export other ways (7-bit or 8-bit weights,
some layers kept in fp32) and measures each: cosine to the fp32 embedding, identical theme sets
with the shipped head, and encoder speed (texts/s, one window per run as the shipped backend).

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
from meldtekst.models.store import load_model
from meldtekst.training import split_data
from meldtekst.validate import load_labelled

ROOT = Path(__file__).resolve().parents[1]


def scores_with(model, texts: list[str], backend: str) -> tuple[np.ndarray, float]:
    est = model.estimator  # an EncoderScorer: it opens its encoder again with the new backend
    est.backend = backend
    est._embedder = None
    start = time.perf_counter()
    scores = model.predict_proba(texts)
    return scores, time.perf_counter() - start


def variants(model, texts: list[str]) -> dict[str, dict[str, float]]:
    """Other ways to quantise the encoder, measured on the same texts against PyTorch fp32."""
    import tempfile

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from meldtekst.embedding import E5Embedder, _export_onnx

    est = model.estimator
    enc = {"max_length": est.max_length, "layers": est.layers, "progress": False}
    ref = E5Embedder(est.base_model, backend="torch", **enc).embed(texts)
    probe = E5Embedder(est.base_model, backend="onnx-int8", **enc)
    sparse_part = est.transform(texts)

    def theme_sets(emb: np.ndarray) -> np.ndarray:
        return est.proba(sparse_part, emb) >= model.thresholds

    reference = theme_sets(ref)
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        _export_onnx(probe.model_ref, fp32, layers=est.layers)
        matmuls = [n.name for n in onnx.load(str(fp32)).graph.node if n.op_type == "MatMul"]
        ffn_out = [n for n in matmuls if "/output/dense" in n and "attention" not in n]
        ffn_in = [n for n in matmuls if "intermediate/dense" in n]
        settings = {
            "int8, 7-bit weights (shipped)": {"reduce_range": True},
            "int8, 8-bit weights": {"reduce_range": False},
            "int8, FFN output layers fp32": {"reduce_range": False, "nodes_to_exclude": ffn_out},
            "int8 attention only (FFN fp32)": {"reduce_range": False, "nodes_to_exclude": ffn_out + ffn_in},
            "ONNX fp32 (no quantisation)": None,
        }
        for i, (name, kw) in enumerate(settings.items()):
            path = fp32
            if kw is not None:
                path = Path(tmp) / f"v{i}.onnx"
                quantize_dynamic(fp32, path, weight_type=QuantType.QInt8, per_channel=True, **kw)
            probe._session = probe._open_session(path)
            times = []
            for _ in range(3):
                start = time.perf_counter()
                emb = probe.embed(texts)
                times.append(time.perf_counter() - start)
            cos = (emb * ref).sum(axis=1)
            out[name] = {
                "cosine_mean": round(float(cos.mean()), 5),
                "cosine_min": round(float(cos.min()), 5),
                "identical_theme_sets": round(float((theme_sets(emb) == reference).all(axis=1).mean()), 4),
                "encoder_texts_per_s": round(len(texts) / statistics.median(times), 1),
            }
            print(name, out[name], flush=True)
    return out


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", action="store_true", help="also measure other quantisation settings")
    args = ap.parse_args()
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
    if args.variants:
        result["variants"] = variants(model, texts)
    out = ROOT / "evaluation" / "results" / "quantization.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
