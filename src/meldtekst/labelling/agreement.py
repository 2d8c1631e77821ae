"""Agreement between two labellings of the same reports (per-theme Cohen's κ, F1, Krippendorff's α).

The datasheet's agreement figures and any later double annotation use this one function,
so a second study is measured exactly like the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score, f1_score

from meldtekst.codebook import load_codebook
from meldtekst.errors import InputError
from meldtekst.io import TableInfo, read_table, write_table
from meldtekst.validate import LABELS_COLUMN, as_text, parse_labels, require_column


@dataclass
class Labelling:
    """One annotator's labels by report id (and the text where the file has one)."""

    path: Path
    labels: dict[str, list[str]]
    texts: dict[str, str] = field(default_factory=dict)


def read_labelling(
    path: str | Path, *, id_column: str = "id", labels_column: str = LABELS_COLUMN, text_column: str = "tekst"
) -> Labelling:
    """Labels by id from any table; the text is optional (a second annotator's file may lack it)."""
    path = Path(path)
    codebook = load_codebook()
    info = TableInfo(path=path, fmt="")
    labels: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    row = 0
    for chunk in read_table(path, info=info):
        columns = [str(c) for c in chunk.columns]
        icol = require_column(columns, id_column, path, what="id")
        lcol = require_column(columns, labels_column, path, what="labels")
        tcol = text_column if text_column in columns else None
        for rec in chunk.to_dict("records"):
            row += 1
            rid = as_text(rec[icol]).strip()
            if not rid:
                raise InputError("empty id", path=path, row=row, column=icol)
            if rid in labels:
                raise InputError(f"id '{rid}' occurs more than once", path=path, row=row, column=icol)
            labels[rid] = parse_labels(rec[lcol], fmt=info.fmt, codebook=codebook, path=path, row=row, column=lcol)
            if tcol is not None:
                texts[rid] = as_text(rec[tcol])
    return Labelling(path=path, labels=labels, texts=texts)


@dataclass
class AgreementResult:
    """Figures of B against A; ``as_dict`` is what `--json` prints and the datasheet quotes."""

    ids: list[str]
    theme_ids: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray
    per_theme: dict[str, dict[str, Any]]
    micro_f1: float
    macro_f1: float
    mean_kappa: float | None
    alpha: float | None
    texts_differ: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def identical_label_sets(self) -> int:
        return int((self.a == self.b).all(axis=1).sum())

    def as_dict(self) -> dict[str, Any]:
        return {
            "reports_compared": len(self.ids),
            "micro_f1": self.micro_f1,
            "macro_f1": self.macro_f1,
            "mean_kappa": self.mean_kappa,
            "krippendorff_alpha_all_decisions": self.alpha,
            "identical_label_sets": self.identical_label_sets,
            "texts_differ": len(self.texts_differ),
            "per_theme": self.per_theme,
        }

    def disagreements(self) -> list[int]:
        return [int(i) for i in np.flatnonzero((self.a != self.b).any(axis=1))]


def _missing(ids: set[str], path: Path, other: Path) -> str:
    shown = sorted(ids)
    more = f" and {len(shown) - 10} more" if len(shown) > 10 else ""
    return f"{len(shown)} id(s) of {other} are missing here: {', '.join(shown[:10])}{more}"


def agreement(a_path: str | Path, b_path: str | Path) -> AgreementResult:
    """Compare labelling B against A report by report; both files must hold the same ids.

    Per theme: Cohen's κ (None when neither annotator used the theme: κ is undefined there),
    prevalence in each and F1 of B against A. Overall: micro/macro F1 (macro over themes that
    either annotator used) and Krippendorff's α (nominal) over all report × theme decisions.
    """
    a, b = read_labelling(a_path), read_labelling(b_path)
    only_a, only_b = set(a.labels) - set(b.labels), set(b.labels) - set(a.labels)
    if only_a:
        raise InputError(_missing(only_a, b.path, a.path), path=b.path)
    if only_b:
        raise InputError(_missing(only_b, a.path, b.path), path=a.path)
    if not a.labels:
        raise InputError("no reports to compare", path=a.path)
    ids = list(a.labels)
    cb = load_codebook()
    A = np.array([[int(t in a.labels[i]) for t in cb.ids] for i in ids], dtype=int)
    B = np.array([[int(t in b.labels[i]) for t in cb.ids] for i in ids], dtype=int)
    per_theme: dict[str, dict[str, Any]] = {}
    for j, t in enumerate(cb.ids):
        used = bool(A[:, j].any() or B[:, j].any())
        per_theme[t] = {
            "kappa": _kappa(A[:, j], B[:, j]) if used else None,
            "positives_a": int(A[:, j].sum()),
            "positives_b": int(B[:, j].sum()),
            "f1_b_vs_a": _r(f1_score(A[:, j], B[:, j], zero_division=0)) if used else None,
        }
    used_cols = A.any(axis=0) | B.any(axis=0)
    kappas = [v["kappa"] for v in per_theme.values() if v["kappa"] is not None]
    alpha = None
    flat = np.vstack([A.ravel(), B.ravel()])
    if len(np.unique(flat)) > 1:
        alpha = _r(krippendorff.alpha(reliability_data=flat, level_of_measurement="nominal"))
    texts_differ = [i for i in ids if i in a.texts and i in b.texts and a.texts[i].strip() != b.texts[i].strip()]
    return AgreementResult(
        ids=ids,
        theme_ids=cb.ids,
        a=A,
        b=B,
        per_theme=per_theme,
        micro_f1=_r(f1_score(A, B, average="micro", zero_division=0)),
        macro_f1=_r(f1_score(A[:, used_cols], B[:, used_cols], average="macro", zero_division=0))
        if used_cols.any()
        else 1.0,
        mean_kappa=_r(np.mean(kappas)) if kappas else None,
        alpha=alpha,
        texts_differ=texts_differ,
        texts={**b.texts, **a.texts},
    )


def _r(value: float) -> float:
    return round(float(value), 3)


def _kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cohen's κ; None where it is undefined (both annotators gave every report the same answer)."""
    if len(np.unique(np.concatenate([a, b]))) < 2:
        return None
    return _r(cohen_kappa_score(a, b))


def write_disagreements(result: AgreementResult, out: str | Path) -> int:
    """The reports where A and B differ, with both label sets and the difference; returns the count."""
    texts = result.texts
    rows = []
    for i in result.disagreements():
        la = [t for t, v in zip(result.theme_ids, result.a[i], strict=True) if v]
        lb = [t for t, v in zip(result.theme_ids, result.b[i], strict=True) if v]
        rid = result.ids[i]
        rows.append(
            {
                "id": rid,
                "tekst": texts.get(rid, ""),
                "labels_a": la,
                "labels_b": lb,
                "only_a": [t for t in la if t not in lb],
                "only_b": [t for t in lb if t not in la],
            }
        )
    columns = ["id", "tekst", "labels_a", "labels_b", "only_a", "only_b"]
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    if Path(out).suffix.lower() not in (".jsonl", ".ndjson"):
        for col in columns[2:]:
            frame[col] = frame[col].map(";".join)
    write_table(frame, out)
    return len(rows)
