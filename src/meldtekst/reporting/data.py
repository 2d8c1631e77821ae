"""Read a file written by `meldtekst tag` back into a theme matrix, dates, roles, scores and evidence.

Every output format of `tag` is accepted: CSV/XLSX/Parquet carry one 0/1 column per
theme, ``score_<id>`` and a piped ``evidence`` string; JSONL carries ``themes`` as a
list and ``scores`` / ``evidence`` as objects. Theme ids come only from the codebook.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from meldtekst.codebook import load_codebook
from meldtekst.errors import InputError
from meldtekst.io import read_all
from meldtekst.tagging import parse_evidence
from meldtekst.validate import as_text, is_blank

NOT_TAGGED = "not a file written by meldtekst tag (no theme columns such as 'thuiszitter' and no 'themes' column)"
DATE_COLUMN = "datum"
ROLE_COLUMN = "rol"
ID_COLUMN = "id"
TEXT_COLUMN = "tekst"

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$")
_DUTCH = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:[T ].*)?$")


@dataclass
class TaggedReports:
    """The parts of a tagged file a report needs. ``texts`` (the whole report) is kept only as
    context for de-identifying quotes and for the verification sheet; it never goes into a table."""

    path: Path
    theme_ids: tuple[str, ...]
    assigned: np.ndarray  # n x k bool
    dates: list[dt.date | None]
    roles: list[str] | None  # None: the file has no role column
    scores: np.ndarray | None  # n x k, or None when the file has no scores
    evidence: list[dict[str, str]]
    has_date_column: bool = False
    warnings: list[str] = field(default_factory=list)
    ids: list[str] | None = None  # the 'id' column as text; None when the file has none
    texts: list[str] | None = None  # None when the file has no text column

    def __len__(self) -> int:
        return len(self.dates)

    def subset(self, keep: np.ndarray) -> TaggedReports:
        idx = np.flatnonzero(keep)
        return TaggedReports(
            path=self.path,
            theme_ids=self.theme_ids,
            assigned=self.assigned[idx],
            dates=[self.dates[i] for i in idx],
            roles=None if self.roles is None else [self.roles[i] for i in idx],
            scores=None if self.scores is None else self.scores[idx],
            evidence=[self.evidence[i] for i in idx],
            has_date_column=self.has_date_column,
            warnings=list(self.warnings),
            ids=None if self.ids is None else [self.ids[i] for i in idx],
            texts=None if self.texts is None else [self.texts[i] for i in idx],
        )


def parse_date(value: Any) -> dt.date | None:
    """A date from ISO ``2024-03-14``, Dutch ``14-03-2024`` (also with / or .) or a date cell; else None."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float) and math.isnan(value):
        return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    m = _ISO.match(text)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    else:
        m = _DUTCH.match(text)
        if not m:
            return None
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
    try:
        return dt.date(y, mo, d)
    except ValueError:
        return None


def _find_column(columns: list[str], name: str) -> str | None:
    if name in columns:
        return name
    lowered = {c.strip().lower(): c for c in columns}
    return lowered.get(name)


def _flag(value: Any, path: Path, row: int, column: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if is_blank(value):
        return False
    text = str(value).strip().lower()
    if text in ("1", "1.0", "true", "ja"):
        return True
    if text in ("0", "0.0", "false", "nee"):
        return False
    raise InputError(f"expected 0 or 1, found '{str(value)[:20]}'", path=path, row=row, column=column)


def _theme_list(value: Any, path: Path, row: int, known: set[str]) -> list[str]:
    if is_blank(value):
        return []
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise InputError("cannot read the theme list", path=path, row=row, column="themes") from None
        else:
            value = [t for t in re.split(r"[;,]", text) if t.strip()]
    if not isinstance(value, (list, tuple)):
        raise InputError("expected a list of theme ids", path=path, row=row, column="themes")
    out = []
    for t in value:
        t = str(t).strip()
        if t not in known:
            raise InputError(f"unknown theme '{t[:40]}' (not in the codebook)", path=path, row=row, column="themes")
        out.append(t)
    return out


def _score(value: Any) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return math.nan
    return f


def id_text(value: Any) -> str:
    """An id cell as text, the same from every format: 7, 7.0 (Excel) and "7" are all "7"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return as_text(value).strip()


def load_tagged(path: str | Path, *, sheet: str | None = None, text_column: str = TEXT_COLUMN) -> TaggedReports:
    """Read a tagged file; fail with one line when it was not written by `meldtekst tag`."""
    path = Path(path)
    df = read_all(path, sheet=sheet)
    codebook = load_codebook()
    ids = codebook.ids
    columns = [str(c) for c in df.columns]
    df.columns = columns
    n = len(df)
    present = [t for t in ids if t in columns]
    assigned = np.zeros((n, len(ids)), dtype=bool)
    if len(present) == len(ids):
        for j, t in enumerate(ids):
            assigned[:, j] = [_flag(v, path, i + 1, t) for i, v in enumerate(df[t].tolist())]
    elif "themes" in columns:
        index = {t: j for j, t in enumerate(ids)}
        for i, value in enumerate(df["themes"].tolist()):
            for t in _theme_list(value, path, i + 1, set(ids)):
                assigned[i, index[t]] = True
    elif present:
        missing = [t for t in ids if t not in columns]
        raise InputError(
            f"theme column(s) {', '.join(missing[:3])} missing; not a file written by meldtekst tag with this codebook",
            path=path,
        )
    else:
        raise InputError(NOT_TAGGED, path=path)

    scores: np.ndarray | None = None
    if all(f"score_{t}" in columns for t in ids):
        scores = np.array([[_score(v) for v in df[f"score_{t}"].tolist()] for t in ids], dtype=float).T
    elif "scores" in columns:
        scores = np.full((n, len(ids)), np.nan)
        for i, value in enumerate(df["scores"].tolist()):
            if isinstance(value, str) and value.strip().startswith("{"):
                try:
                    value = json.loads(value)
                except json.JSONDecodeError:
                    value = None
            if isinstance(value, dict):
                for j, t in enumerate(ids):
                    scores[i, j] = _score(value.get(t))

    evidence = (
        [parse_evidence(v, ids) for v in df["evidence"].tolist()] if "evidence" in columns else [{} for _ in range(n)]
    )

    date_col = _find_column(columns, DATE_COLUMN)
    dates = [parse_date(v) for v in df[date_col].tolist()] if date_col else [None] * n
    role_col = _find_column(columns, ROLE_COLUMN)
    roles = None
    if role_col:
        roles = [" ".join(as_text(v).split())[:40] or "(onbekend)" for v in df[role_col].tolist()]
    id_col = _find_column(columns, ID_COLUMN)
    report_ids = [id_text(v) for v in df[id_col].tolist()] if id_col else None
    text_col = text_column if text_column in columns else None
    texts = [as_text(v) for v in df[text_col].tolist()] if text_col else None
    warnings = []
    if "evidence" not in columns:
        warnings.append("the file has no 'evidence' column: no quotes possible")
    return TaggedReports(
        path=path,
        theme_ids=ids,
        assigned=assigned,
        dates=dates,
        roles=roles,
        scores=scores,
        evidence=evidence,
        has_date_column=date_col is not None,
        warnings=warnings,
        ids=report_ids,
        texts=texts,
    )
