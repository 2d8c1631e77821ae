"""How many reports really have each theme: the model's tagged count corrected by a verified sample.

The model's tags over- or under-count a theme wherever its precision and recall differ, and a
Wilson interval around the tagged count only covers sampling, not those errors. With a simple
random sample of reports whose themes people checked by hand, prediction-powered inference
(Angelopoulos et al., Science 2023; PPI++ power tuning, Angelopoulos, Duchi & Zrnic 2023, via
the ``ppi-python`` package) combines the two: the tags of every report, rectified by how often
they were wrong in the sample. Power tuning makes it never worse than the verified sample alone.

The count is N x the PPI estimate of the share, with ``Yhat_unlabeled`` the tags of all N reports
(the verified ones too), as ``ppi_py`` computes it for a mean. For the finite file this interval
is conservative: it leaves out the finite-population correction (1 - n/N), so it stays valid when
a large part of a small file is verified. (Estimating only the unverified rest and adding the
verified positives looks tighter but ignores that the rest is itself a sample: its intervals held
the true count in only 80 % of simulated files of 313 reports with 200 verified.) Bounds are cut
to what is possible, and verifying every report gives the exact count.

``ppi_py`` (and numba under it) is imported only here, inside the functions that need it, so
that ``meldtekst tag`` never pays for it at start-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from meldtekst.labelling.verification import MIN_VERIFIED

if TYPE_CHECKING:
    from meldtekst.labelling.verification import VerifiedSample
    from meldtekst.reporting.data import TaggedReports

ALPHA = 0.05
METHOD_TAGGED = "tagged count with 95% Wilson interval (sampling only; the model's errors are not in the interval)"
METHOD_PPI = "prediction-powered inference (PPI++, ppi-python): verified sample + the model's tags of all reports"
METHOD_TOO_FEW = "no estimate: too few verified reports"


@dataclass(frozen=True)
class ThemeCount:
    """One theme: reports the model tagged, and the estimated true count with its 95 % interval
    (None where there is too little verified data to say anything honest)."""

    id: str
    tagged: int
    estimate: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(float(v), 3)

        return {
            "id": self.id,
            "tagged": self.tagged,
            "estimate": r(self.estimate),
            "low": r(self.low),
            "high": r(self.high),
        }


@dataclass
class CountEstimates:
    """Counts for one group of reports (all of them, or one period or role)."""

    reports: int
    verified: int
    method: str
    themes: list[ThemeCount]
    label: str = ""  # the period or role; "" for all reports
    note: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def corrected(self) -> bool:
        """True when the estimates rest on a verified sample (PPI), not on the tags alone."""
        return self.method == METHOD_PPI

    def __getitem__(self, theme_id: str) -> ThemeCount:
        return next(t for t in self.themes if t.id == theme_id)

    def as_dict(self) -> dict[str, Any]:
        """The shape `meldtekst counts --json` prints: counts, never shares, every theme."""
        return {
            "reports": self.reports,
            "verified": self.verified,
            "method": self.method,
            "themes": [t.as_dict() for t in self.themes],
        }


def wilson_count(count: Any, n: int, population: int) -> tuple[Any, Any, Any]:
    """``count`` of ``n`` scaled to ``population`` reports, with its 95 % Wilson interval
    (``count`` may be an array: one per theme)."""
    if n <= 0:
        return 0.0, 0.0, float(population)
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(count, n, alpha=ALPHA, method="wilson")
    scale = population / n
    return np.asarray(count) * scale if np.ndim(count) else count * scale, lo * population, hi * population


def ppi_counts(
    tags: np.ndarray, rows: np.ndarray, y: np.ndarray, alpha: float = ALPHA, lam: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimated number of reports with each theme, and its (1 - alpha) interval, by PPI++.

    ``tags``: the model's 0/1 tags of every report (reports x themes); ``rows``: positions of the
    verified reports (a simple random sample); ``y``: their checked 0/1 labels (rows x themes).
    ``ppi_mean_pointestimate`` and ``ppi_mean_ci`` with ``lam=None`` (power tuning per theme,
    ``lam_optim_mode="element"``) estimate each theme's share from ``Y`` = checked labels,
    ``Yhat`` = tags of the verified reports and ``Yhat_unlabeled`` = tags of all reports; the
    count is N x the share. Intervals are cut to what is possible: at least the verified
    positives, at most those plus every unverified report. ``lam`` fixes the power tuning
    instead (1: plain PPI, 0: the verified sample alone).
    """
    from ppi_py import ppi_mean_ci, ppi_mean_pointestimate

    tags = np.asarray(tags, dtype=float)
    tags = tags.reshape(len(tags), -1)
    rows = np.asarray(rows, dtype=int).ravel()
    y = np.asarray(y, dtype=float).reshape(len(rows), tags.shape[1])
    rest = np.ones(len(tags), dtype=bool)
    rest[rows] = False
    known, m = y.sum(axis=0), int(rest.sum())
    if m == 0:
        return known, known.copy(), known.copy()  # every report verified: the counts are exact
    if len(rows) == 0:
        raise ValueError("no verified reports")
    share = np.zeros(tags.shape[1])
    lo = np.zeros(tags.shape[1])
    hi = np.zeros(tags.shape[1])
    # tags that never vary carry no information (and would make the power tuning divide by zero)
    constant = np.ptp(tags, axis=0) == 0
    for cols, fixed in ((np.flatnonzero(~constant), lam), (np.flatnonzero(constant), 0.0)):
        if not len(cols):
            continue
        args = (y[:, cols], tags[rows][:, cols], tags[:, cols])
        share[cols] = np.ravel(ppi_mean_pointestimate(*args, lam=fixed, lam_optim_mode="element"))
        low, high = ppi_mean_ci(*args, alpha=alpha, lam=fixed, lam_optim_mode="element")
        lo[cols], hi[cols] = np.ravel(low), np.ravel(high)
    n_all, top = len(tags), known + m
    return np.clip(n_all * share, known, top), np.clip(n_all * lo, known, top), np.clip(n_all * hi, known, top)


def ppi_count(
    tags: np.ndarray, rows: np.ndarray, y: np.ndarray, alpha: float = ALPHA, lam: float | None = None
) -> tuple[float, float, float]:
    """`ppi_counts` for one theme: ``tags`` of every report, ``y`` of the verified ``rows``."""
    est, lo, hi = ppi_counts(np.asarray(tags).reshape(-1, 1), rows, np.asarray(y).reshape(-1, 1), alpha, lam)
    return float(est[0]), float(lo[0]), float(hi[0])


def tagged_counts(assigned: np.ndarray, theme_ids: Sequence[str], label: str = "") -> CountEstimates:
    """Without a verified sample: the tagged count with its Wilson interval (sampling only)."""
    n = len(assigned)
    themes = []
    for j, t in enumerate(theme_ids):
        c = int(assigned[:, j].sum())
        _, lo, hi = wilson_count(c, n, n)
        themes.append(ThemeCount(t, c, float(c), lo, hi))
    return CountEstimates(n, 0, METHOD_TAGGED, themes, label=label)


def verified_counts(
    assigned: np.ndarray,
    rows: np.ndarray,
    y: np.ndarray,
    theme_ids: Sequence[str],
    *,
    label: str = "",
    min_verified: int = MIN_VERIFIED,
) -> CountEstimates:
    """PPI++ estimates from the tags of all reports and a verified sample (``rows`` x ``y``).

    Fewer than ``min_verified`` verified reports (unless every report is verified) give no
    estimate at all, with a note saying so, rather than an interval that would not hold.
    """
    n_all, n = len(assigned), len(rows)
    tagged = [int(assigned[:, j].sum()) for j in range(len(theme_ids))]
    if n < min_verified and n != n_all:
        themes = [ThemeCount(t, c, None, None, None) for t, c in zip(theme_ids, tagged, strict=True)]
        note = f"only {n} verified report(s) here; at least {min_verified} are needed for an estimate"
        return CountEstimates(n_all, n, METHOD_TOO_FEW, themes, label=label, note=note)
    if n == n_all:  # every report verified (or none in this group): the counts are exact
        exact = np.asarray(y, dtype=float).reshape(n, len(theme_ids)).sum(axis=0)
        themes = [
            ThemeCount(t, tagged[j], float(exact[j]), float(exact[j]), float(exact[j])) for j, t in enumerate(theme_ids)
        ]
        note = "no reports here" if not n_all else "every report verified: exact counts"
        return CountEstimates(n_all, n, METHOD_PPI, themes, label=label, note=note)
    est, lo, hi = ppi_counts(assigned, rows, y)
    themes = [ThemeCount(t, tagged[j], float(est[j]), float(lo[j]), float(hi[j])) for j, t in enumerate(theme_ids)]
    return CountEstimates(n_all, n, METHOD_PPI, themes, label=label)


def count_estimates(data: TaggedReports, verified: VerifiedSample | None) -> CountEstimates:
    """All reports of ``data``: PPI++ with a verified sample, else the tagged counts."""
    if verified is None:
        return tagged_counts(data.assigned, data.theme_ids)
    rows, y = verified.within(data)
    return verified_counts(data.assigned, rows, y, data.theme_ids)


def grouped_estimates(
    data: TaggedReports, verified: VerifiedSample | None, groups: Sequence[str | None], order: Sequence[str]
) -> list[CountEstimates]:
    """The same estimate within each group (period or role), in ``order``; reports whose group is
    None (no date) are left out. A group with too few verified reports gets no estimate and says so."""
    out = []
    labels = np.array([g if g is not None else "" for g in groups], dtype=object)
    for g in order:
        keep = labels == g
        part = data.subset(keep)
        if verified is None:
            out.append(tagged_counts(part.assigned, part.theme_ids, label=g))
            continue
        rows, y = verified.within(part)
        out.append(verified_counts(part.assigned, rows, y, part.theme_ids, label=g))
    return out


def groups_for(data: TaggedReports, by: str) -> tuple[list[str | None], list[str]]:
    """Each report's period (or role) label and the labels in order: every period from the first
    to the last (also those without reports), then 'zonder datum' for reports without a date."""
    from meldtekst.errors import InputError
    from meldtekst.reporting.counts import PERIODS, UNDATED, period_key, period_label, period_range

    if by not in PERIODS:
        raise InputError(f"--by '{by}' is not one of {', '.join(PERIODS)}")
    if by == "rol":
        if data.roles is None:
            raise InputError("--by rol needs a 'rol' column, and the file has none", path=data.path)
        order = sorted(set(data.roles))
        return list(data.roles), order
    if not data.has_date_column:
        raise InputError(f"--by {by} needs a 'datum' column, and the file has none", path=data.path)
    keys = [period_key(d, by) if d is not None else None for d in data.dates]
    present = sorted({k for k in keys if k is not None})
    order = [period_label(k, by) for k in period_range(present[0], present[-1], by)] if present else []
    labels: list[str | None] = [period_label(k, by) if k is not None else UNDATED for k in keys]
    if any(k is None for k in keys):
        order.append(UNDATED)
    return labels, order
