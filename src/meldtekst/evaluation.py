"""Metrics per theme (scikit-learn underneath), threshold tuning, and error files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, precision_recall_fscore_support

from meldtekst.io import write_table
from meldtekst.models.store import ThemeModelDir
from meldtekst.validate import LabelledData, load_labelled

THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)


def theme_metrics(y_true: np.ndarray, y_pred: np.ndarray, theme_ids: Sequence[str]) -> dict[str, Any]:
    """micro/macro F1 and per-theme precision, recall, F1, support."""
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0)
    return {
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "samples_f1": float(f1_score(y_true, y_pred, average="samples", zero_division=0)),
        "per_theme": {
            t: {"precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]), "support": int(s[j])}
            for j, t in enumerate(theme_ids)
        },
    }


def macro_f1_present(y_true: np.ndarray, y_pred: np.ndarray, min_positives: int) -> float:
    """Macro-F1 over the themes with at least ``min_positives`` positives in ``y_true`` (0 when none has).

    A held-out writer covers only some themes; a theme with one or two positives there would swing the
    mean on a single report.
    """
    keep = np.asarray(y_true).sum(axis=0) >= min_positives
    if not keep.any():
        return 0.0
    return float(f1_score(y_true[:, keep], y_pred[:, keep], average="macro", zero_division=0))


def tune_thresholds(y_true: np.ndarray, scores: np.ndarray, grid: np.ndarray = THRESHOLD_GRID) -> np.ndarray:
    """Per theme, the threshold with the best F1; ties go to the one nearest 0.5.

    Scores must come from data the model was not fitted on (dev, or out-of-fold).
    """
    out = np.full(y_true.shape[1], 0.5)
    for j in range(y_true.shape[1]):
        if y_true[:, j].sum() == 0:
            continue
        f1s = np.array([f1_score(y_true[:, j], scores[:, j] >= t, zero_division=0) for t in grid])
        best = f1s.max()
        candidates = grid[np.isclose(f1s, best)]
        out[j] = float(candidates[np.argmin(np.abs(candidates - 0.5))])
    return out


@dataclass
class EvalResult:
    metrics: dict[str, Any]
    data: LabelledData
    predicted: np.ndarray
    scores: np.ndarray


def select_split(data: LabelledData, split: str | None) -> LabelledData:
    if not split or split == "all":
        return data
    if "split" not in data.frame.columns:
        return data
    mask = (data.frame["split"].astype(str) == split).to_numpy()
    if not mask.any():
        from meldtekst.errors import InputError

        raise InputError(f"no rows with split '{split}'", path=data.source, column="split")
    return data.subset(mask)


def evaluate(
    model: ThemeModelDir,
    data: LabelledData | str | Path,
    *,
    split: str | None = "test",
    text_column: str = "tekst",
    labels_column: str = "labels",
) -> EvalResult:
    """Tag the labelled reports with ``model`` and compare with their labels."""
    if not isinstance(data, LabelledData):
        data = load_labelled(data, text_column=text_column, labels_column=labels_column)
    data = select_split(data, split)
    scores = model.predict_proba(data.texts)
    predicted = (scores >= model.thresholds).astype(int)
    return EvalResult(theme_metrics(data.y, predicted, model.theme_ids), data, predicted, scores)


def write_errors(result: EvalResult, path: str | Path) -> int:
    """Write misclassified reports with expected and predicted themes; returns how many."""
    ids = result.data.theme_ids
    rows = []
    for i in range(len(result.data)):
        exp = {t for t, v in zip(ids, result.data.y[i], strict=True) if v}
        got = {t for t, v in zip(ids, result.predicted[i], strict=True) if v}
        if exp != got:
            rows.append(
                {
                    "id": result.data.ids[i],
                    "tekst": result.data.texts[i],
                    "expected": ";".join(t for t in ids if t in exp),
                    "predicted": ";".join(t for t in ids if t in got),
                    "missed": ";".join(t for t in ids if t in exp - got),
                    "extra": ";".join(t for t in ids if t in got - exp),
                }
            )
    write_table(pd.DataFrame(rows, columns=["id", "tekst", "expected", "predicted", "missed", "extra"]), path)
    return len(rows)
