"""`suggest`: which reports to label next, written as Label Studio tasks with the model's pre-annotations.

Annotators correct the model's themes instead of starting blank; the strategies are in
`meldtekst.labelling.strategies` (why not small-text's: see there).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from meldtekst.errors import InputError
from meldtekst.io import _jsonable, read_all
from meldtekst.labelling import strategies
from meldtekst.labelling.files import read_json, write_json_atomic
from meldtekst.labelling.labelstudio import CONTROL, TEXT_FIELD
from meldtekst.models.store import ThemeModelDir
from meldtekst.validate import as_text, require_column

NEAR_DUPLICATE = 0.9  # cosine of character 4-gram vectors above which two texts count as the same report
_WS = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]")


@dataclass
class SuggestSummary:
    candidates: int = 0
    empty_texts: int = 0
    excluded_by_id: int = 0
    excluded_by_text: int = 0
    duplicates_in_input: int = 0
    flagged_for_review: int | None = None
    suggested: int = 0
    strategy: str = ""
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def normalise(text: str) -> str:
    """Case, accents, punctuation and spacing removed: what 'identical text' compares."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _WS.sub(" ", _PUNCT.sub(" ", text)).strip()


def _exclusions(paths: Sequence[Path], text_column: str, id_column: str) -> tuple[set[str], list[str]]:
    """Ids and texts already labelled (any table) or already sent out (a tasks .json)."""
    ids: set[str] = set()
    texts: list[str] = []
    for path in paths:
        path = Path(path)
        if path.suffix.lower() == ".json":
            doc = read_json(path, what="Label Studio task list")
            if not isinstance(doc, list):
                raise InputError("expected a JSON list of Label Studio tasks", path=path)
            for task in doc:
                data = task.get("data", {}) if isinstance(task, dict) else {}
                if data.get("id") not in (None, ""):
                    ids.add(as_text(data["id"]))
                if isinstance(data.get(text_column), str):
                    texts.append(data[text_column])
            continue
        df = read_all(path)
        columns = [str(c) for c in df.columns]
        if id_column not in columns and text_column not in columns:
            raise InputError(f"has neither an '{id_column}' nor a '{text_column}' column to exclude by", path=path)
        if id_column in columns:
            ids.update(as_text(v) for v in df[id_column] if as_text(v))
        if text_column in columns:
            texts.extend(as_text(v) for v in df[text_column] if as_text(v).strip())
    return ids, texts


def near_duplicates(candidates: Sequence[str], known: Sequence[str], threshold: float = NEAR_DUPLICATE) -> np.ndarray:
    """For each candidate, whether a known text is (nearly) the same: equal after `normalise`,
    or character 4-gram cosine >= ``threshold`` (a typo fixed, a name changed, a line added)."""
    out = np.zeros(len(candidates), dtype=bool)
    if not len(candidates) or not len(known):
        return out
    norm_known = {normalise(t) for t in known}
    norm_cand = [normalise(t) for t in candidates]
    out |= np.array([t in norm_known for t in norm_cand])
    from sklearn.feature_extraction.text import HashingVectorizer

    vec = HashingVectorizer(analyzer="char_wb", ngram_range=(4, 4), n_features=1 << 18, alternate_sign=False)
    k = vec.transform(sorted(norm_known))
    for start in range(0, len(norm_cand), 2000):
        block = vec.transform(norm_cand[start : start + 2000])
        sims = (block @ k.T).max(axis=1).toarray().ravel()
        out[start : start + 2000] |= sims >= threshold
    return out


def _features(model: ThemeModelDir, texts: Sequence[str]) -> Any:
    """The model's own features where it exposes them (the linear model), else TF-IDF n-grams."""
    if hasattr(model.estimator, "transform"):
        try:
            return model.estimator.transform(list(texts))
        except (AttributeError, NotImplementedError, TypeError):
            pass
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=1, sublinear_tf=True).fit_transform(texts)


def prevalence(model: ThemeModelDir) -> np.ndarray:
    """Each theme's share of the model's training reports (uniform if the model does not say)."""
    td = model.meta.get("training_data", {})
    counts, rows = td.get("label_counts_train") or {}, td.get("train_rows") or 0
    if not counts or not rows:
        return np.full(len(model.theme_ids), 0.1)
    return np.array([counts.get(t, 0) / rows for t in model.theme_ids], dtype=float)


def suggest(
    input_path: str | Path,
    output: str | Path,
    model: ThemeModelDir,
    *,
    n: int = 50,
    strategy: str = "uncertainty",
    exclude: Sequence[str | Path] = (),
    seed: int = 13,
    text_column: str = TEXT_FIELD,
    id_column: str = "id",
) -> SuggestSummary:
    """Pick ``n`` reports from ``input_path`` by ``strategy`` and write them as Label Studio tasks.

    Reports whose id or (near-)identical text is in an ``exclude`` file are never suggested,
    nor are empty texts (counted) or repeats within the input. Each task carries the model's
    themes above threshold as a prediction (pre-annotation) for the ``themes`` control.
    """
    if strategy not in strategies.STRATEGIES:
        raise InputError(f"unknown strategy '{strategy}' (use {', '.join(strategies.STRATEGIES)})")
    if n < 1:
        raise InputError("-n must be at least 1")
    src = Path(input_path)
    df = read_all(src)
    columns = [str(c) for c in df.columns]
    tcol = require_column(columns, text_column, src, what="text")
    summary = SuggestSummary(strategy=strategy)
    texts = [as_text(v) for v in df[tcol]]
    ids = [as_text(v) for v in df[id_column]] if id_column in columns else [str(i + 1) for i in range(len(df))]
    if id_column not in columns:
        summary.warnings.append(f"no '{id_column}' column: tasks are numbered by row")
    live = np.array([bool(t.strip()) for t in texts], dtype=bool)
    summary.empty_texts = int((~live).sum())
    ex_ids, ex_texts = _exclusions([Path(p) for p in exclude], tcol, id_column)
    by_id = np.array([i in ex_ids for i in ids], dtype=bool) & live
    summary.excluded_by_id = int(by_id.sum())
    live &= ~by_id
    idx = np.flatnonzero(live)
    by_text = near_duplicates([texts[i] for i in idx], ex_texts)
    summary.excluded_by_text = int(by_text.sum())
    live[idx[by_text]] = False
    seen: set[str] = set()
    for i in np.flatnonzero(live):
        key = normalise(texts[i])
        if key in seen:
            live[i] = False
            summary.duplicates_in_input += 1
        seen.add(key)
    pool = np.flatnonzero(live)
    summary.candidates = len(pool)
    if not len(pool):
        raise InputError("no reports left to suggest (all empty, excluded or repeated)", path=src)
    from meldtekst.tagging import tag_texts

    result = tag_texts(model, [texts[i] for i in pool], with_evidence=False)
    u = strategies.uncertainty(result.scores, model.thresholds, strategies.theme_weights(prevalence(model)))
    closeness = strategies.uncertainty(result.scores, model.thresholds)  # unweighted, in [0, 1]
    rng = np.random.default_rng(seed)
    if strategy == "random":
        chosen = strategies.pick_random(len(pool), n, rng)
    elif strategy == "uncertainty":
        chosen = strategies.pick_uncertain(u, n)
    elif strategy == "review":
        flagged = np.flatnonzero(result.needs_review)
        summary.flagged_for_review = len(flagged)
        chosen = flagged[strategies.pick_uncertain(u[flagged], n)]
    else:
        chosen = strategies.pick_diverse(u, _features(model, [texts[i] for i in pool]), n, rng)
    if len(chosen) < n:
        summary.warnings.append(f"only {len(chosen)} report(s) qualify, fewer than -n {n}")
    tasks = [
        _task(df.iloc[pool[j]], tcol, ids[pool[j]], result.themes(j), float(closeness[j]), model, id_column)
        for j in chosen
    ]
    summary.suggested = len(tasks)
    write_json_atomic(output, tasks)
    return summary


def _task(
    row: pd.Series, tcol: str, rid: str, themes: list[str], closeness: float, model: ThemeModelDir, id_column: str
) -> dict[str, Any]:
    data = {"id": rid, TEXT_FIELD: as_text(row[tcol])}
    for key, value in row.items():
        if str(key) in (tcol, id_column, "labels", "id", TEXT_FIELD):
            continue  # gold labels, if the input has them, must not prime the annotator
        data[str(key)] = _jsonable(value)
    result = [{"from_name": CONTROL, "to_name": TEXT_FIELD, "type": "choices", "value": {"choices": themes}}]
    if not themes:
        result = []  # "no theme" is a prediction too: the annotator sees nothing pre-selected
    return {
        "data": data,
        "predictions": [
            {"model_version": f"{model.name} {model.version}", "score": round(1.0 - closeness, 4), "result": result}
        ],
    }
