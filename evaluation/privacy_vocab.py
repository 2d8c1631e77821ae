"""What keeping report text out of the `fast` model's vocabulary costs (issue #20, item 1).

The fast model stores its n-gram vocabulary. Training text is now de-identified first
(`meldtekst.anonymize`, the same pipeline as `meldtekst anonymize`) and an n-gram is kept only
when at least `min_df` different reports contain it. This script compares, with the shipped
fast settings (training/configs/fast.yaml) otherwise unchanged:

- test macro-F1 (fitted on train, thresholds from 2-fold out-of-fold scores, raw test text, as
  `meldtekst tag` sees new reports), and
- leave-one-writer-out macro-F1 (train on six writers' de-identified reports, score the seventh
  writer's raw reports), mean and worst writer,
- the vocabulary size, and how many identifiers that `anonymize` finds in the corpus (names,
  places, institutions, numbers; at least 4 characters) are still a word term of the model.

    python evaluation/privacy_vocab.py        # writes evaluation/results/privacy_vocab.json
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import yaml

from meldtekst.anonymize import deidentify, identifiers
from meldtekst.evaluation import macro_f1_present, theme_metrics, tune_thresholds
from meldtekst.models.linear import LinearThemeTagger
from meldtekst.training import oof_scores, split_data
from meldtekst.validate import LabelledData, load_labelled

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "evaluation" / "results" / "privacy_vocab.json"
SEED = 13
MIN_POS_LOWO = 4
FOLDS = 2  # inner out-of-fold folds for thresholds; 2 keeps the 24 fits per variant affordable on 2 cores

VARIANTS: dict[str, dict] = {
    "raw text, min_df 2 (fast v3 recipe)": {"deidentify": False, "min_df": 2},
    "de-identified, min_df 3": {"deidentify": True, "min_df": 3},
    "de-identified, min_df 5": {"deidentify": True, "min_df": 5},
}


def fit(params: dict, train: LabelledData) -> tuple[LinearThemeTagger, np.ndarray]:
    est = LinearThemeTagger(random_state=SEED, **params)
    thresholds = tune_thresholds(train.y, oof_scores(est, train, FOLDS, SEED))
    return est.fit(train.texts, train.y), thresholds


def main() -> None:
    cfg = yaml.safe_load((ROOT / "training" / "configs" / "fast.yaml").read_text())["model"]
    base = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()}
    data = load_labelled(ROOT / "data" / "meldingen.jsonl")
    start = time.perf_counter()
    clean = {i: deidentify(t).text for i, t in zip(data.ids, data.texts, strict=True)}
    deid_seconds = time.perf_counter() - start
    found: set[str] = set()
    for t in data.texts:
        found.update(s.lower() for s, kind in identifiers(t).items() if len(s) >= 4 and kind != "DATUM")
    train, _dev, test = split_data(data, SEED)
    writers = data.frame["schrijver"].astype(str).to_numpy()
    results: dict[str, dict] = {}
    for name, change in VARIANTS.items():
        params = {**base, "min_df": change["min_df"]}
        source = (lambda p: p.with_texts([clean[i] for i in p.ids])) if change["deidentify"] else (lambda p: p)
        t0 = time.perf_counter()
        fitted, thr = fit(params, source(train))
        m = theme_metrics(test.y, (fitted.predict_proba(test.texts) >= thr).astype(int), data.theme_ids)
        terms = fitted.scorer_.word_terms
        leaked = sorted(t for t in terms if t.lower() in found)
        lowo: dict[str, float] = {}
        for w in sorted(set(writers)):
            tr, held = data.subset(writers != w), data.subset(writers == w)
            f_w, thr_w = fit(params, source(tr))
            lowo[w] = round(
                macro_f1_present(held.y, (f_w.predict_proba(held.texts) >= thr_w).astype(int), MIN_POS_LOWO), 4
            )
        results[name] = {
            "test_macro_f1": round(m["macro_f1"], 4),
            "test_micro_f1": round(m["micro_f1"], 4),
            "lowo_macro_f1": {**lowo, "mean": round(float(np.mean(list(lowo.values()))), 4)},
            "lowo_worst_writer": min(lowo.values()),
            "word_terms": len(terms),
            "char_terms": len(fitted.scorer_.char_terms or []),
            "corpus_identifiers_in_vocabulary": len(leaked),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print(name, json.dumps(results[name]), flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "corpus_identifiers_found": len(found),
                "deidentify_seconds": round(deid_seconds, 1),
                "variants": results,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
