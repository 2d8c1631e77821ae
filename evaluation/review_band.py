"""How well does `needs_review` point analysts to the reports the model gets wrong?

For the shipped `fast` model, on dev (where the cut-off is chosen) and test (held out): for
each review measure, the cut-off that flags at most 25 % of dev reports, the share of reports
it flags and the share of reports with an error (predicted theme set != gold) among them.

Measures: `prob_band` (the old rule: any theme within a fixed probability band of its
threshold), `logit_min` (the smallest distance to a threshold in log-odds) and `logit_risk`
(`meldtekst.review.review_risk`: log-odds closeness summed over themes, the new rule).

    nice -n 10 python evaluation/review_band.py   # writes evaluation/results/review_band.json
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from meldtekst.models.store import load_model
from meldtekst.review import _logit, review_risk
from meldtekst.validate import load_labelled

ROOT = Path(__file__).resolve().parents[1]
SHARES = (0.10, 0.15, 0.20, 0.25, 0.30)


def risks(scores: np.ndarray, thr: np.ndarray) -> dict[str, np.ndarray]:
    """Higher = more in need of review, for every measure."""
    return {
        "prob_band": -np.abs(scores - thr).min(axis=1),
        "logit_min": -np.abs(_logit(scores) - _logit(thr)[None, :]).min(axis=1),
        "logit_risk": review_risk(scores, thr),
    }


def caught(risk: np.ndarray, wrong: np.ndarray, cutoff: float) -> dict[str, float]:
    flagged = risk >= cutoff
    return {
        "flagged_share": round(float(flagged.mean()), 3),
        "errors_caught_share": round(float((flagged & wrong).sum() / max(int(wrong.sum()), 1)), 3),
        "precision": round(float((flagged & wrong).sum() / max(int(flagged.sum()), 1)), 3),
    }


def main(model_name: str = "fast") -> None:
    model = load_model(model_name)
    data = load_labelled(ROOT / "data" / "meldingen.jsonl")
    split = data.frame["split"].to_numpy()
    out: dict = {
        "date": datetime.now(UTC).date().isoformat(),
        "command": "nice -n 10 python evaluation/review_band.py",
        "model": f"{model.name} {model.version} (models/{model_name})",
        "max_flagged_dev": 0.25,
    }
    parts = {}
    for name in ("dev", "test"):
        part = data.subset(split == name)
        scores = model.predict_proba(part.texts)
        wrong = ((scores >= model.thresholds).astype(int) != part.y).any(axis=1)
        parts[name] = (risks(scores, model.thresholds), wrong)
        out[f"{name}_reports"] = len(part)
        out[f"{name}_error_share"] = round(float(wrong.mean()), 3)
        out[f"{name}_wrong_theme_decisions_per_report"] = round(
            float(((scores >= model.thresholds).astype(int) != part.y).sum(axis=1).mean()), 2
        )
    measures: dict = {}
    for m in parts["dev"][0]:
        dev_risk, dev_wrong = parts["dev"][0][m], parts["dev"][1]
        ordered = np.sort(dev_risk)[::-1]
        curve = {}
        for share in SHARES:
            k = max(int(np.floor(share * len(ordered))), 1)
            curve[f"{share:.2f}"] = caught(dev_risk, dev_wrong, float(ordered[k - 1]))["errors_caught_share"]
        k = int(np.floor(0.25 * len(ordered)))
        cutoff = float(ordered[k - 1])
        measures[m] = {
            "dev": caught(dev_risk, dev_wrong, cutoff),
            "test_same_cutoff": caught(parts["test"][0][m], parts["test"][1], cutoff),
            "dev_errors_caught_at_flagged_share": curve,
        }
    # a perfect flag catches min(1, flagged / error share) of the erroneous reports
    out["best_possible_errors_caught_at_25"] = round(min(1.0, 0.25 / max(out["dev_error_share"], 1e-9)), 3)
    shipped = model.meta.get("review_band_dev", {})
    out["shipped_band"] = {"band": model.meta.get("review_band"), **shipped}
    out["measures"] = measures
    path = ROOT / "evaluation" / "results" / "review_band.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
