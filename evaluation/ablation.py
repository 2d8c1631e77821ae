"""Which parts of the `fast` model earn their place: each variant changes settings of the base
configuration (`BASE`: fast v1 — word and char n-grams, no codebook features, C=4), is fitted on the train split,
thresholds tuned on 3-fold out-of-fold scores of train, and scored on dev (never test).
With --lowo, the chosen variants are also scored leave-one-writer-out (train on six writers,
score the seventh), the proxy for report styles the model never saw.

    python evaluation/ablation.py [--lowo "fast v1 (base),codebook 0.25 + C=8 (= fast v2; shipped)"] [--only ...]

The winner on dev, confirmed leave-one-writer-out, became fast v2 (training/configs/fast.yaml).
    # writes evaluation/results/ablation.json
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from meldtekst.evaluation import theme_metrics, tune_thresholds
from meldtekst.models.linear import LinearThemeTagger
from meldtekst.training import oof_scores, split_data
from meldtekst.validate import load_labelled

ROOT = Path(__file__).resolve().parents[1]

# fast v1, the base every variant changes (fast v2 = "codebook 0.25 + C=8")
BASE: dict = {
    "word_ngrams": (1, 2),
    "char_ngrams": (2, 5),
    "use_char": True,
    "use_codebook": False,
    "use_context": True,
    "min_df": 2,
    "C": 4.0,
    "class_weight": "balanced",
}
VARIANTS: dict[str, dict] = {
    "fast v1 (base)": {},
    "with codebook features": {"use_codebook": True},
    "with codebook features, weight 0.25": {"use_codebook": True, "codebook_weight": 0.25},
    "codebook without context": {"use_codebook": True, "use_context": False},
    "no char n-grams": {"use_char": False},
    "char 3-5": {"char_ngrams": (3, 5)},
    "char 2-6": {"char_ngrams": (2, 6)},
    "word unigrams": {"word_ngrams": (1, 1)},
    "word 1-3": {"word_ngrams": (1, 3)},
    "all n-grams (no feature cap)": {"max_word_features": None, "max_char_features": None},
    "min_df 1": {"min_df": 1},
    "C=1": {"C": 1.0},
    "C=8": {"C": 8.0},
    "C=16": {"C": 16.0},
    "no class weights": {"class_weight": None},
    "codebook 0.25 + C=8 (= fast v2; shipped)": {"use_codebook": True, "codebook_weight": 0.25, "C": 8.0},
    "codebook 0.25 + C=16": {"use_codebook": True, "codebook_weight": 0.25, "C": 16.0},
    "codebook 0.5 + C=16": {"use_codebook": True, "codebook_weight": 0.5, "C": 16.0},
    "codebook 0.25 + C=8 + char 3-5": {"use_codebook": True, "codebook_weight": 0.25, "C": 8.0, "char_ngrams": (3, 5)},
}


def main() -> None:
    import argparse
    import sys

    sys.path.insert(0, str(ROOT / "evaluation"))
    from benchmark import lowo

    ap = argparse.ArgumentParser()
    ap.add_argument("--lowo", default="", help="comma-separated variant names to score leave-one-writer-out")
    ap.add_argument("--only", default="", help="comma-separated variant names to run (default all)")
    args = ap.parse_args()
    lowo_names = [n for n in args.lowo.split(",") if n]
    only = [n for n in args.only.split(",") if n]
    out_file = ROOT / "evaluation" / "results" / "ablation.json"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(out_file.read_text()) if out_file.is_file() else {}
    data = load_labelled(ROOT / "data" / "meldingen.jsonl")
    train, dev, _ = split_data(data, 13)
    # keep earlier results of this base only (runs before it varied a codebook-feature model)
    results = {k: v for k, v in previous.items() if k in VARIANTS and v.get("base") == "fast v1"}
    base = BASE
    for name, change in VARIANTS.items():
        if only and name not in only:
            continue
        params = {**base, **change}
        start = time.perf_counter()
        est = LinearThemeTagger(**params)
        thresholds = tune_thresholds(train.y, oof_scores(est, train, 3, 13))
        fitted = est.fit(train.texts, train.y)
        pred = (fitted.predict_proba(dev.texts) >= thresholds).astype(int)
        m = theme_metrics(dev.y, pred, data.theme_ids)
        results[name] = {
            "dev_macro_f1": round(m["macro_f1"], 4),
            "dev_micro_f1": round(m["micro_f1"], 4),
            "seconds": round(time.perf_counter() - start, 1),
            "base": "fast v1",
        }
        print(f"{name:28s} macro {m['macro_f1']:.3f} micro {m['micro_f1']:.3f}", flush=True)
        if name in lowo_names:
            results[name]["lowo_macro_f1"] = lowo(LinearThemeTagger(**params), data)
            print(f"{name:28s} LOWO mean {results[name]['lowo_macro_f1']['mean']:.3f}", flush=True)
        out_file.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
