"""Simulated active learning: do `uncertainty` / `diverse` reach random sampling's quality with fewer labels?

On the corpus's train split: start from 100 reports drawn stratified over the themes, then each
round add 50 reports chosen by a strategy (their gold labels revealed, as a simulated annotator),
retrain the default `fast` model config and score macro-F1 on the test split. Three seeds; the
curve is the median over seeds. The strategies are the ones `meldtekst suggest` uses
(`meldtekst.labelling.strategies`).

Simplification, the same for every strategy: the per-theme thresholds are not tuned out-of-fold
inside the simulation (5 extra fits per round); every theme uses 0.5, which the balanced class
weights of the `fast` config make a sensible cut-off. Absolute macro-F1 is therefore a little
below the shipped model's; the comparison between strategies is what counts.

    nice -n 10 python evaluation/active_learning.py            # ~2-15 min on 2 cores
Writes evaluation/results/active_learning.json and evaluation/results/active_learning.png.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit
from sklearn.base import clone

from meldtekst.evaluation import theme_metrics
from meldtekst.labelling import strategies
from meldtekst.training import TrainConfig, build_estimator
from meldtekst.validate import LabelledData, load_labelled

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "evaluation" / "results"
STRATS = ("uncertainty", "diverse", "random")


def run_seed(
    seed: int, start: int, step: int, rounds: int, est: Any, train: LabelledData, test: LabelledData
) -> dict[str, list[float]]:
    split = MultilabelStratifiedShuffleSplit(
        n_splits=1, train_size=start, test_size=len(train) - start, random_state=seed
    )
    first, _ = next(split.split(np.zeros(len(train)), train.y))
    curves: dict[str, list[float]] = {}
    for strategy in STRATS:
        rng = np.random.default_rng(seed)
        labelled = np.zeros(len(train), dtype=bool)
        labelled[first] = True
        curve = []
        for r in range(rounds + 1):
            idx = np.flatnonzero(labelled)
            model = clone(est).fit([train.texts[i] for i in idx], train.y[idx])
            pred = (model.predict_proba(test.texts) >= 0.5).astype(int)
            curve.append(theme_metrics(test.y, pred, test.theme_ids)["macro_f1"])
            print(f"seed {seed} {strategy:11s} labels {len(idx):4d} macro-F1 {curve[-1]:.3f}", flush=True)
            if r == rounds:
                break
            pool = np.flatnonzero(~labelled)
            if strategy == "random":
                pick = strategies.pick_random(len(pool), step, rng)
            else:
                pool_texts = [train.texts[i] for i in pool]
                scores = model.predict_proba(pool_texts)
                weights = strategies.theme_weights(train.y[idx].mean(axis=0))
                u = strategies.uncertainty(scores, np.full(scores.shape[1], 0.5), weights)
                if strategy == "uncertainty":
                    pick = strategies.pick_uncertain(u, step)
                else:
                    pick = strategies.pick_diverse(u, model.transform(pool_texts), step, rng)
            labelled[pool[pick]] = True
        curves[strategy] = curve
    return curves


def labels_to_reach(sizes: list[int], curve: list[float], target: float) -> int | None:
    return next((n for n, f in zip(sizes, curve, strict=True) if f >= target - 1e-9), None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--start", type=int, default=100)
    ap.add_argument("--step", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--out", type=Path, default=RESULTS / "active_learning.json")
    args = ap.parse_args()
    data = load_labelled(ROOT / "data" / "meldingen.jsonl")
    split = data.frame["split"].to_numpy()
    train, test = data.subset(split == "train"), data.subset(split == "test")
    config = TrainConfig.from_yaml(ROOT / "training" / "configs" / "fast.yaml")
    est = build_estimator(config)
    t0 = time.perf_counter()
    per_seed = {s: run_seed(s, args.start, args.step, args.rounds, est, train, test) for s in args.seeds}
    sizes = [args.start + args.step * r for r in range(args.rounds + 1)]
    median = {k: [float(np.median([per_seed[s][k][r] for s in args.seeds])) for r in range(len(sizes))] for k in STRATS}
    target = median["random"][-1]
    reach = {k: labels_to_reach(sizes, median[k], target) for k in STRATS}
    out = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "command": "nice -n 10 python evaluation/active_learning.py",
        "config": f"training/configs/fast.yaml, fast v{config.version} "
        "(thresholds fixed at 0.5, no out-of-fold tuning)",
        "train_pool": len(train),
        "test_reports": len(test),
        "start": args.start,
        "step": args.step,
        "seeds": args.seeds,
        "labels": sizes,
        "macro_f1_median": {k: [round(v, 4) for v in median[k]] for k in STRATS},
        "macro_f1_per_seed": {str(s): {k: [round(v, 4) for v in c] for k, c in per_seed[s].items()} for s in per_seed},
        "random_final_macro_f1": round(target, 4),
        "labels_to_reach_random_final": reach,
        "share_of_random_labels": {k: (round(v / sizes[-1], 3) if v else None) for k, v in reach.items()},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    plot(out, args.out.with_suffix(".png"))
    print(json.dumps({k: out[k] for k in ("random_final_macro_f1", "labels_to_reach_random_final", "seconds")}))


def plot(out: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for k in STRATS:
        ax.plot(out["labels"], out["macro_f1_median"][k], marker="o", ms=3, label=k)
    ax.axhline(out["random_final_macro_f1"], color="grey", lw=0.8, ls="--")
    ax.set_xlabel("labelled reports")
    ax.set_ylabel("test macro-F1 (median of 3 seeds)")
    ax.set_title("Active learning on the train split (fast model)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
