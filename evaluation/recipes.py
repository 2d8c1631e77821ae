"""The `fast` recipes side by side, leave-one-writer-out (issue #21): one command, one corpus.

Every writer's reports are held out in turn; the model is fitted on the other writers and scored
on the held-out writer's raw reports, the way `meldtekst tag` meets a style it never saw.
Recipes differ in what the training text looks like, how thresholds are tuned and how a theme's
score is formed:

- ``old``: fast v3 as shipped before: raw training text, min_df 2, no generic qualifier,
  thresholds on stratified out-of-fold scores, report-level scores only.
- ``new (w=…)``: de-identified training text, min_df 3, the generic-statement qualifier,
  thresholds on writer-held-out scores inside the training writers (writers in 3 groups, one
  group held out per fold), and sentence-anchored scores
  ``report_p ** (1 - w) * best_sentence_p ** w`` for w in {0, .25, .5, .75, 1}.

Reported per recipe: macro-F1 over the themes with at least 4 positives in the held-out
writer's reports (mean and worst writer), micro precision and recall, precision on the
longest third of texts, and macro-F1 / precision per genre. w is chosen by the mean
leave-one-writer-out macro-F1 (ties to the smaller w) and written as ``chosen_weight``.

    python evaluation/recipes.py [--folds 2] [--out evaluation/results/recipes.json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml
from sklearn.metrics import precision_score, recall_score

from meldtekst.anonymize import deidentify
from meldtekst.evaluation import macro_f1_present, tune_thresholds
from meldtekst.models.linear import LinearThemeTagger
from meldtekst.models.linear_scorer import anchored_scores
from meldtekst.training import oof_scores
from meldtekst.validate import LabelledData, load_labelled

ROOT = Path(__file__).resolve().parents[1]
SEED = 13
MIN_POS = 4
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


INNER_WRITER_GROUPS = 3  # inner folds of the nested evaluation: writers in 3 groups (the shipped model holds
# out one writer per fold; nested inside leave-one-writer-out that would be 11 fits per held-out writer)


def with_texts(part: LabelledData, texts: dict[str, str]) -> LabelledData:
    writers = sorted(set(part.frame["schrijver"].astype(str)))
    group = {w: str(k % INNER_WRITER_GROUPS) for k, w in enumerate(writers)}
    frame = part.frame.assign(schrijver_groep=part.frame["schrijver"].astype(str).map(group))
    return replace(part.with_texts([texts[i] for i in part.ids]), frame=frame)


def doc_and_sentences(est: LinearThemeTagger, texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Report-level probabilities, sentence probabilities and sentences per report (weight 0)."""
    doc, per_doc, sent = est.scorer_.predict_with_sentences(texts)
    return doc, sent, [len(ss) for ss in per_doc]


def anchored_oof(est: LinearThemeTagger, data: LabelledData, folds: int, groups: str | None) -> dict[float, np.ndarray]:
    """Out-of-fold scores for every weight from one set of fits (the weight changes only scoring)."""
    out = {w: np.zeros(data.y.shape) for w in WEIGHTS}

    class Capture(LinearThemeTagger):
        def predict_proba(self, X: list[str]) -> np.ndarray:
            texts = list(X)
            doc, sent, sizes = doc_and_sentences(self, texts)
            idx = [index[t] for t in texts]
            for w in WEIGHTS:
                out[w][idx] = anchored_scores(doc, sent, sizes, w)
            return doc

    index = {t: i for i, t in enumerate(data.texts)}
    oof_scores(Capture(**est.get_params()), data, folds, SEED, groups)
    return out


def writer_key(writer: str) -> int:
    return int("".join(c for c in writer if c.isdigit()) or 0)


def scores_row(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    return {
        "macro_f1": macro_f1_present(y, pred, MIN_POS),
        "precision": float(precision_score(y, pred, average="micro", zero_division=0)),
        "recall": float(recall_score(y, pred, average="micro", zero_division=0)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT / "data" / "meldingen.jsonl"))
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "evaluation" / "results" / "recipes.json"))
    ap.add_argument(
        "--holdout",
        default="",
        help="comma-separated writers held out together in one fold (e.g. the round-2 writers: a model that "
        "saw only round-1 styles meets the new genres); default: every writer held out in turn",
    )
    args = ap.parse_args()
    cfg = yaml.safe_load((ROOT / "training" / "configs" / "fast.yaml").read_text())["model"]
    base = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items() if k != "sentence_weight"}
    data = load_labelled(args.data)
    frame = data.frame
    writers = frame["schrijver"].astype(str).to_numpy()
    genres = frame["genre"].fillna("melding").astype(str) if "genre" in frame else frame["schrijver"] * 0 + "melding"
    genres = genres.to_numpy()
    words = np.array([len(t.split()) for t in data.texts])
    longest = words >= np.quantile(words, 2 / 3)
    started = time.perf_counter()
    clean = {i: deidentify(t).text for i, t in zip(data.ids, data.texts, strict=True)}
    print(f"de-identified {len(clean)} reports in {time.perf_counter() - started:.0f} s", flush=True)

    names = ["old", *(f"new (w={w:g})" for w in WEIGHTS)]
    pred = {n: np.zeros_like(data.y) for n in names}
    scores = {n: np.zeros(data.y.shape) for n in names}
    folds = [[w] for w in sorted(set(writers))] if not args.holdout else [args.holdout.split(",")]
    scored = np.isin(writers, [w for fold in folds for w in fold])
    for fold in folds:
        t0 = time.perf_counter()
        held_mask = np.isin(writers, fold)
        train, held = data.subset(~held_mask), data.subset(held_mask)
        idx = np.flatnonzero(held_mask)
        # old recipe
        old = LinearThemeTagger(random_state=SEED, **{**base, "min_df": 2, "generic_context": False})
        thr = tune_thresholds(train.y, oof_scores(old, train, args.folds, SEED))
        s = old.fit(train.texts, train.y).predict_proba(held.texts)
        scores["old"][idx], pred["old"][idx] = s, (s >= thr).astype(int)
        # new recipe: de-identified training text, min_df 3, writer-held-out thresholds, anchoring
        new = LinearThemeTagger(random_state=SEED, **{**base, "min_df": 3})
        train_clean = with_texts(train, clean)
        oof = anchored_oof(new, train_clean, args.folds, "schrijver_groep")
        new.fit(train_clean.texts, train_clean.y)
        doc, sent, sizes = doc_and_sentences(new, held.texts)
        for w in WEIGHTS:
            thr_w = tune_thresholds(train.y, oof[w])
            s = anchored_scores(doc, sent, sizes, w)
            scores[f"new (w={w:g})"][idx], pred[f"new (w={w:g})"][idx] = s, (s >= thr_w).astype(int)
        print(f"{','.join(fold)}: {time.perf_counter() - t0:.0f} s", flush=True)

    y_all, w_all, g_all, long_all = data.y[scored], writers[scored], genres[scored], longest[scored]

    def summary(name: str) -> dict:
        p = pred[name][scored]
        per_writer = {w: scores_row(y_all[w_all == w], p[w_all == w]) for w in sorted(set(w_all), key=writer_key)}
        macro = [v["macro_f1"] for v in per_writer.values()]
        per_genre = {g: scores_row(y_all[g_all == g], p[g_all == g]) for g in sorted(set(g_all))}
        return {
            "lowo_macro_f1_mean": round(float(np.mean(macro)), 4),
            "lowo_macro_f1_worst": round(float(np.min(macro)), 4),
            "worst_writer": min(per_writer, key=lambda w: per_writer[w]["macro_f1"]),
            "precision": round(float(precision_score(y_all, p, average="micro", zero_division=0)), 4),
            "recall": round(float(recall_score(y_all, p, average="micro", zero_division=0)), 4),
            "precision_longest_third": round(
                float(precision_score(y_all[long_all], p[long_all], average="micro", zero_division=0)), 4
            ),
            "per_writer": {w: {k: round(v, 4) for k, v in r.items()} for w, r in per_writer.items()},
            "per_genre": {g: {k: round(v, 4) for k, v in r.items()} for g, r in per_genre.items()},
        }

    results = {n: summary(n) for n in names}
    best: Callable[[float], float] = lambda w: results[f"new (w={w:g})"]["lowo_macro_f1_mean"]  # noqa: E731
    chosen = max(WEIGHTS, key=lambda w: (round(best(w), 3), -w))
    out = {
        "corpus": {
            "reports": len(data),
            "writers": sorted(set(writers), key=writer_key),
            "genres": sorted(set(genres)),
        },
        "held_out": "each writer in turn" if not args.holdout else f"{args.holdout} together",
        "scored_reports": int(scored.sum()),
        "longest_third_min_words": int(np.quantile(words, 2 / 3)),
        "chosen_weight": chosen,
        "recipes": results,
        "seconds": round(time.perf_counter() - started),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    for n in names:
        r = results[n]
        print(
            f"{n:16s} LOWO macro {r['lowo_macro_f1_mean']:.3f} worst {r['lowo_macro_f1_worst']:.3f} "
            f"P {r['precision']:.3f} R {r['recall']:.3f} P(longest third) {r['precision_longest_third']:.3f}"
        )
    print("chosen weight", chosen)


if __name__ == "__main__":
    main()
