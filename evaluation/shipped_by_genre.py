"""The shipped models on the test split, overall, on the round-2 genres and on the longest third of texts,
next to the models they replaced (given as directories): precision is what over-tagging costs.

    python evaluation/shipped_by_genre.py [--old NAME=DIR ...]   # writes evaluation/results/shipped_by_genre.json

The old models are the v3 directories from git history, e.g.
    mkdir -p /tmp/v3 && git archive c71c542 models/fast | tar -x -C /tmp/v3
    python evaluation/shipped_by_genre.py --old "fast v3=/tmp/v3/models/fast"
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, precision_score, recall_score

from meldtekst.evaluation import select_split
from meldtekst.models.store import load_model_dir
from meldtekst.validate import load_labelled

ROOT = Path(__file__).resolve().parents[1]


def scores(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    return {
        "reports": len(y),
        "precision": round(float(precision_score(y, pred, average="micro", zero_division=0)), 4),
        "recall": round(float(recall_score(y, pred, average="micro", zero_division=0)), 4),
        "macro_f1": round(float(f1_score(y, pred, average="macro", zero_division=0)), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", action="append", default=[], help="NAME=DIR of a model to compare")
    args = ap.parse_args()
    data = select_split(load_labelled(ROOT / "data" / "meldingen.jsonl"), "test")
    genre = data.frame["genre"].astype(str).to_numpy()
    words = np.array([len(t.split()) for t in data.texts])
    parts = {
        "all test reports": np.ones(len(data), dtype=bool),
        "round-2 genres": genre != "melding",
        "longest third": words >= np.quantile(words, 2 / 3),
    }
    models = dict(item.split("=", 1) for item in args.old)
    models.update(
        {f"{n} v{load_model_dir(ROOT / 'models' / n).version}": str(ROOT / "models" / n) for n in ("fast", "accurate")}
    )
    out: dict[str, dict] = {}
    for name, path in models.items():
        model = load_model_dir(path)
        pred = (model.predict_proba(data.texts) >= model.thresholds).astype(int)
        out[name] = {part: scores(data.y[mask], pred[mask]) for part, mask in parts.items()}
        print(name, json.dumps(out[name]), flush=True)
    target = ROOT / "evaluation" / "results" / "shipped_by_genre.json"
    target.write_text(json.dumps({"split": "test", "models": out}, indent=2) + "\n")


if __name__ == "__main__":
    main()
