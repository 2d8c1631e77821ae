"""Query strategies: which unlabelled reports to label next, from a model's scores.

Pure functions on arrays, so `meldtekst suggest` and the active-learning simulation
(`evaluation/active_learning.py`) choose in exactly the same way.

Why not small-text's query strategies (`small-text` 1.4.1 is on PyPI): they query through
small-text's own classifier and dataset wrappers and judge uncertainty from `predict_proba`
around a fixed 0.5 cut-off or an argmax (entropy, breaking ties, least confidence), whereas our
themes are decided by per-theme thresholds tuned out-of-fold (0.1-0.8). Measured against the
cut-off that actually decides, uncertainty is a few lines of numpy below; wrapping the model in
small-text adapters would add a dependency and hide that difference.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

STRATEGIES = ("uncertainty", "diverse", "random", "review")
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def theme_weights(prevalence: np.ndarray) -> np.ndarray:
    """Rare themes weigh more (1/sqrt of prevalence, mean 1): an uncertain call on a theme with
    12 examples teaches the model more than one on a theme with 400."""
    w = 1.0 / np.sqrt(np.clip(np.asarray(prevalence, dtype=float), 0.005, 1.0))
    return w / w.mean()


def uncertainty(scores: np.ndarray, thresholds: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Per report, the largest weighted closeness of a theme score to its threshold.

    Closeness is exp(-|logit(score) - logit(threshold)|): 1 on the threshold, falling off
    evenly on the log-odds scale, so 0.02 vs a 0.05 threshold counts as close as 0.3 vs 0.5.
    """
    close = np.exp(-np.abs(_logit(scores) - _logit(thresholds)[None, :]))
    if weights is not None:
        close = close * weights[None, :]
    return close.max(axis=1) if close.size else np.zeros(len(scores))


def pick_uncertain(u: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` most uncertain rows (stable: ties keep input order)."""
    return np.argsort(-u, kind="stable")[:n]


def pick_random(n_rows: int, n: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(n_rows, size=min(n, n_rows), replace=False))


def pick_diverse(
    u: np.ndarray, features: np.ndarray | sparse.spmatrix, n: int, rng: np.random.Generator, *, pool_factor: int = 4
) -> np.ndarray:
    """Uncertainty plus coverage: cluster the ``pool_factor * n`` most uncertain reports into
    ``n`` groups on the model's features and take the most uncertain report of each group, so a
    batch is not ``n`` retellings of one story."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    n = min(n, len(u))
    pool = pick_uncertain(u, min(len(u), pool_factor * n))
    if n <= 1 or len(pool) <= n:
        return pool[:n]
    x = features[pool]
    dims = min(50, x.shape[1] - 1, len(pool) - 1)
    if dims >= 2:
        x = TruncatedSVD(n_components=dims, random_state=int(rng.integers(1 << 31))).fit_transform(x)
    x = normalize(np.asarray(x.todense()) if sparse.issparse(x) else np.asarray(x))
    km = KMeans(n_clusters=n, n_init=1, random_state=int(rng.integers(1 << 31))).fit(x)
    chosen = []
    for c in range(n):
        members = pool[km.labels_ == c]
        if len(members):
            chosen.append(members[np.argmax(u[members])])
    if len(chosen) < n:  # empty clusters: fill with the next most uncertain
        rest = [i for i in pool if i not in set(chosen)]
        chosen.extend(rest[: n - len(chosen)])
    return np.asarray(sorted(chosen, key=lambda i: -u[i]))
