"""Which tagged reports an analyst should check by hand (`needs_review`).

A report is flagged when its review risk is at least the model's cut-off. The risk sums, over
the themes, how close each score is to its threshold on the log-odds scale,
``exp(-|logit(score) - logit(threshold)|)`` (1 on the threshold): a report with several
borderline themes is more likely to have at least one wrong than a report with one, and the
log-odds scale treats a 0.03 score against a 0.05 threshold as the near miss it is, where a
band of fixed width in probability cannot (thresholds run from about 0.1 to 0.8).

Models trained before this measure store only ``review_band`` (a width in probability around
every threshold); they keep that rule, so old model directories tag exactly as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MEASURE = "logit_risk"
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def review_risk(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per report, the summed log-odds closeness of its theme scores to their thresholds."""
    if scores.size == 0:
        return np.zeros(len(scores))
    return np.exp(-np.abs(_logit(scores) - _logit(thresholds)[None, :])).sum(axis=1)


def band_flags(scores: np.ndarray, thresholds: np.ndarray, band: float) -> np.ndarray:
    """The old rule: any theme score within ``band`` (probability) of its threshold."""
    if band <= 0 or scores.size == 0:
        return np.zeros(len(scores), dtype=bool)
    return (np.abs(scores - thresholds) < band).any(axis=1)


def needs_review(
    scores: np.ndarray, thresholds: np.ndarray, meta: dict[str, Any], empty: np.ndarray, band: float | None = None
) -> np.ndarray:
    """Flags for a batch: an explicit ``band`` or a model without a stored risk cut-off uses the
    probability band; otherwise the model's ``review.cutoff`` on `review_risk`."""
    review = meta.get("review") or {}
    if band is not None or review.get("measure") != MEASURE:
        width = float(meta.get("review_band", 0.0)) if band is None else band
        return band_flags(scores, thresholds, width) & ~empty
    return (review_risk(scores, thresholds) >= float(review["cutoff"])) & ~empty


def choose_cutoff(scores: np.ndarray, y: np.ndarray, thresholds: np.ndarray, *, max_flagged: float) -> dict[str, Any]:
    """The lowest risk cut-off that flags at most ``max_flagged`` of the reports, with what it catches."""
    risk = review_risk(scores, thresholds)
    wrong = ((scores >= thresholds).astype(int) != y).any(axis=1)
    n = len(risk)
    k = int(np.floor(max_flagged * n))
    order = np.sort(risk)[::-1]
    if k <= 0:
        cutoff = float(order[0]) + 1.0 if n else 1.0
    else:
        cutoff = float(order[k - 1])
        while k > 0 and (risk >= cutoff).mean() > max_flagged:  # ties at the cut-off
            k -= 1
            cutoff = float(order[k - 1]) if k else float(order[0]) + 1.0
    flagged = risk >= cutoff
    return {
        "measure": MEASURE,
        "cutoff": cutoff,  # unrounded: a rounded cut-off would flag other reports than measured
        "flagged_share": round(float(flagged.mean()), 3) if n else 0.0,
        "errors_caught_share": round(float((wrong & flagged).sum() / max(int(wrong.sum()), 1)), 3),
        "error_reports_share": round(float(wrong.mean()), 3) if n else 0.0,
    }
