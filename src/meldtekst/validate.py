"""Schema and label checks that turn bad rows into one-line errors naming file, row and column."""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from meldtekst.codebook import Codebook, load_codebook
from meldtekst.errors import InputError
from meldtekst.io import TableInfo, read_table

LABELS_COLUMN = "labels"
# `meldtekst train` refuses a theme with fewer positive reports in its training part (training.MIN_POSITIVES;
# a copy, as importing training would load scikit-learn into every validate run; a test keeps them equal)
MIN_TRAIN_POSITIVES = 3


def require_column(columns: list[str], name: str, path: Path | str, *, what: str = "text") -> str:
    """Return ``name`` if present, else fail suggesting the closest column names."""
    if name in columns:
        return name
    lowered = {c.lower().strip(): c for c in columns}
    if name.lower().strip() in lowered:
        return lowered[name.lower().strip()]
    close = difflib.get_close_matches(name, columns, n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    shown = ", ".join(repr(c) for c in columns[:12]) or "(none)"
    raise InputError(
        f"no {what} column '{name}' (columns: {shown}){hint} Use --{what}-column to choose one.",
        path=path,
    )


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def as_text(value: Any) -> str:
    """A cell as report text: missing becomes '', numbers become their string."""
    if is_blank(value):
        return ""
    return value if isinstance(value, str) else str(value)


def parse_labels(
    value: Any, *, fmt: str, codebook: Codebook, path: Path | str, row: int, column: str = LABELS_COLUMN
) -> list[str]:
    """Labels of one row: a JSON list in JSONL, ids separated by ';' (or a JSON list) in CSV/XLSX."""
    if is_blank(value):
        if fmt == "jsonl" and value is None:
            raise InputError("labels missing; use [] for a report without themes", path=path, row=row, column=column)
        return []
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, str):
        text = value.strip()
        if fmt == "jsonl":
            raise InputError(
                'labels must be a JSON list like ["thuiszitter"], not a string', path=path, row=row, column=column
            )
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise InputError(
                    "labels look like a list but are not valid JSON", path=path, row=row, column=column
                ) from None
        else:
            value = [p.strip() for p in text.replace(",", ";").split(";") if p.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError("labels must be a list of theme ids", path=path, row=row, column=column)
    unknown = [v for v in value if v not in codebook]
    if unknown:
        close = difflib.get_close_matches(unknown[0], codebook.ids, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InputError(f"unknown theme id '{unknown[0]}'{hint}", path=path, row=row, column=column)
    return codebook.order(value)


@dataclass
class LabelledData:
    """A labelled corpus in memory: texts, ids, the label matrix in codebook order, other columns."""

    ids: list[str]
    texts: list[str]
    y: np.ndarray
    theme_ids: tuple[str, ...]
    frame: pd.DataFrame
    source: Path | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, mask: np.ndarray) -> LabelledData:
        idx = np.flatnonzero(mask)
        return LabelledData(
            ids=[self.ids[i] for i in idx],
            texts=[self.texts[i] for i in idx],
            y=self.y[idx],
            theme_ids=self.theme_ids,
            frame=self.frame.iloc[idx].reset_index(drop=True),
            source=self.source,
        )

    def with_texts(self, texts: Sequence[str]) -> LabelledData:
        """The same reports and labels with other texts (e.g. de-identified ones), in the same order."""
        if len(texts) != len(self.texts):
            raise ValueError(f"{len(texts)} texts for {len(self.texts)} reports")
        return LabelledData(
            ids=self.ids, texts=list(texts), y=self.y, theme_ids=self.theme_ids, frame=self.frame, source=self.source
        )

    def label_counts(self) -> dict[str, int]:
        return {t: int(c) for t, c in zip(self.theme_ids, self.y.sum(axis=0), strict=True)}


def load_labelled(
    path: str | Path,
    *,
    text_column: str = "tekst",
    id_column: str = "id",
    labels_column: str = LABELS_COLUMN,
    sheet: str | None = None,
    codebook: Codebook | None = None,
) -> LabelledData:
    """Read a labelled file and check it; the first bad row raises an InputError."""
    codebook = codebook or load_codebook()
    path = Path(path)
    info = TableInfo(path=path, fmt="")
    frames = list(read_table(path, sheet=sheet, info=info))
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    columns = [str(c) for c in df.columns]
    tcol = require_column(columns, text_column, path, what="text")
    lcol = require_column(columns, labels_column, path, what="labels")
    icol = id_column if id_column in columns else None
    ids = [as_text(v) for v in df[icol]] if icol else [str(i + 1) for i in range(len(df))]
    texts = [as_text(v) for v in df[tcol]]
    y = np.zeros((len(df), len(codebook)), dtype=np.int8)
    index = {t: j for j, t in enumerate(codebook.ids)}
    for i, value in enumerate(df[lcol]):
        for t in parse_labels(value, fmt=info.fmt, codebook=codebook, path=path, row=i + 1, column=lcol):
            y[i, index[t]] = 1
    for i, text in enumerate(texts):
        if not text.strip():
            raise InputError("empty text in labelled data", path=path, row=i + 1, column=tcol)
    return LabelledData(ids=ids, texts=texts, y=y, theme_ids=codebook.ids, frame=df, source=path)


@dataclass
class ValidationReport:
    path: Path
    fmt: str
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    empty_texts: int = 0
    duplicate_ids: list[str] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    labelled: bool = False
    label_counts: dict[str, int] = field(default_factory=dict)
    unlabelled_rows: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def length_summary(self) -> dict[str, float]:
        if not self.lengths:
            return {}
        arr = np.asarray(self.lengths)
        return {
            "min": int(arr.min()),
            "p25": float(np.percentile(arr, 25)),
            "median": float(np.median(arr)),
            "p75": float(np.percentile(arr, 75)),
            "max": int(arr.max()),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "format": self.fmt,
            "rows": self.rows,
            "columns": self.columns,
            "empty_texts": self.empty_texts,
            "duplicate_ids": self.duplicate_ids,
            "words_per_text": self.length_summary(),
            "labelled": self.labelled,
            "label_counts": self.label_counts,
            "reports_without_theme": self.unlabelled_rows,
            "errors": self.errors,
            "warnings": self.warnings,
        }


def validate_file(
    path: str | Path,
    *,
    text_column: str = "tekst",
    id_column: str = "id",
    labels_column: str = LABELS_COLUMN,
    sheet: str | None = None,
    max_errors: int = 20,
) -> ValidationReport:
    """Check a labelled or unlabelled file; problems become one-line entries in ``errors``.

    File-level problems (missing file, no text column) raise InputError, since
    nothing else can be checked after them.
    """
    codebook = load_codebook()
    path = Path(path)
    info = TableInfo(path=path, fmt="")
    report = ValidationReport(path=path, fmt="")
    seen: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    split_counts: dict[str, Counter[str]] = {}
    row = 0
    tcol = lcol = icol = scol = None

    def problem(message: str, *, column: str | None) -> None:
        if len(report.errors) < max_errors:
            report.errors.append(str(InputError(message, path=path, row=row, column=column)))

    for chunk in read_table(path, sheet=sheet, info=info):
        if tcol is None:
            report.fmt = info.fmt
            report.columns = [str(c) for c in chunk.columns]
            tcol = require_column(report.columns, text_column, path, what="text")
            icol = id_column if id_column in report.columns else None
            lcol = labels_column if labels_column in report.columns else None
            scol = "split" if "split" in report.columns else None
            report.labelled = lcol is not None
        for values in chunk.itertuples(index=False, name=None):
            row += 1
            rec = dict(zip(chunk.columns, values, strict=True))
            text = as_text(rec[tcol])
            if not text.strip():
                report.empty_texts += 1
                if lcol is not None:  # `train` (load_labelled) refuses the file for it
                    problem("empty text in labelled data", column=tcol)
            report.lengths.append(len(text.split()))
            rid = as_text(rec[icol]) if icol else str(row)
            if icol and not rid.strip() and not all(is_blank(v) for v in values):
                problem("id is missing; every report needs an id to be found back in the output", column=icol)
            seen[rid] += 1
            if lcol is not None:
                try:
                    labels = parse_labels(rec[lcol], fmt=info.fmt, codebook=codebook, path=path, row=row, column=lcol)
                except InputError as exc:
                    if len(report.errors) < max_errors:
                        report.errors.append(str(exc))
                    continue
                counts.update(labels)
                if scol is not None:
                    split_counts.setdefault(as_text(rec[scol]), Counter()).update(labels)
                if not labels:
                    report.unlabelled_rows += 1
    report.rows = row
    report.warnings.extend(info.warnings)
    report.duplicate_ids = sorted(i for i, c in seen.items() if c > 1)
    if report.labelled:
        report.label_counts = {t: counts.get(t, 0) for t in codebook.ids}
        report.warnings.extend(_trainability_warnings(codebook.ids, counts, split_counts))
    if report.rows == 0:
        report.warnings.append("file has a header but no rows")
    if report.empty_texts:
        report.warnings.append(f"{report.empty_texts} row(s) with an empty text")
    if report.duplicate_ids:
        report.warnings.append(
            f"{len(report.duplicate_ids)} duplicate id(s), e.g. {', '.join(report.duplicate_ids[:3])}"
        )
    return report


def _trainability_warnings(
    theme_ids: tuple[str, ...], counts: Counter[str], split_counts: dict[str, Counter[str]]
) -> list[str]:
    """What `training.check_trainable` would refuse: a theme with too few positive reports in the
    training part (the `split` column's 'train' rows when it also has 'dev' rows, as `split_data` does).

    A warning, not an error: a small labelled file is valid for evaluation or as an extra file
    merged into a corpus; only training it on its own fails.
    """
    part, where = counts, "in the file"
    if "train" in split_counts and "dev" in split_counts:
        part, where = split_counts["train"], "in its 'train' rows"
    few = [t for t in theme_ids if part.get(t, 0) < MIN_TRAIN_POSITIVES]
    if not few:
        return []
    shown = ", ".join(few[:5]) + (f" and {len(few) - 5} more" if len(few) > 5 else "")
    return [
        f"`meldtekst train` would refuse this file on its own: fewer than {MIN_TRAIN_POSITIVES} labelled "
        f"reports {where} for {len(few)} theme(s): {shown}"
    ]
