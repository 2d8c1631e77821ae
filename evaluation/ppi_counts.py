"""Do the counts in a lobby report hold when the model is wrong in a way its test set never showed?

Simulation for `meldtekst counts --verified`: the `fast` model is fitted leave-one-writer-out
(trained on six writers, tagging the seventh, whose style it never saw), so every one of the
1,215 reports in data/meldingen.jsonl carries a tag from a model that did not see its writer:
that is the shifted, deliberately wrong model. Its labels are the truth. Then, 1,000 times for
each sample size n (50, 100, 200), a simple random sample of n reports is "verified" (its true
labels revealed) and each theme's count in the file is estimated three ways:

- raw: the model's tagged count (what the report showed before `--verified`);
- verified only: the same estimator with the model switched off (PPI with lam = 0: the verified
  share, with the same finite-population treatment and a normal interval);
- PPI++: `meldtekst.reporting.estimates.ppi_counts`, exactly what `counts --verified` prints.

Reported per n: coverage of the 95 % intervals (share of samples x themes whose interval holds
the true count; goal >= 93 %), the worst theme's coverage, the PPI interval's width against the
verified-only interval, and the mean absolute error per theme. Scenarios: the model as fitted
(tag precision 0.81); every threshold x 0.6, so the model tags too much, like the precision of
about 0.66 measured on real-world text; and that model on files of 313 reports (a new random file
each time), the size of the real-world check in issue #22.

    python evaluation/ppi_counts.py [--reps 1000] [--refit]

The per-writer predictions (ids and 0/1 tags, no text) are cached in
evaluation/results/ppi_counts_predictions.npz; writes evaluation/results/ppi_counts.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from meldtekst.evaluation import tune_thresholds
from meldtekst.models.linear import LinearThemeTagger
from meldtekst.training import TrainConfig, oof_scores
from meldtekst.validate import load_labelled

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "evaluation" / "results"
CACHE = OUT / "ppi_counts_predictions.npz"
SEED = 13
INNER_FOLDS = 2  # as benchmark.py scores leave-one-writer-out
SIZES = (50, 100, 200)
# name: (threshold scale, reports in the counted file; None = all 1,215)
SCENARIOS: dict[str, tuple[float, int | None]] = {
    "LOWO, all 1,215 reports": (1.0, None),
    "LOWO, thresholds x 0.6, all 1,215": (0.6, None),
    "LOWO, thresholds x 0.6, files of 313": (0.6, 313),
}
GOAL = 0.93


def _estimator() -> LinearThemeTagger:
    cfg = TrainConfig.from_yaml(ROOT / "training" / "configs" / "fast.yaml")
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.model.items()}
    return LinearThemeTagger(random_state=cfg.seed, **params)


def predict_lowo() -> dict[str, np.ndarray]:
    """Scores and thresholds of each report from a model fitted without its writer (minutes, cached)."""
    data = load_labelled(ROOT / "data" / "meldingen.jsonl")
    writers = data.frame["schrijver"].astype(str).to_numpy()
    scores = np.zeros(data.y.shape, dtype=float)
    thresholds = np.zeros(data.y.shape, dtype=float)
    for w in sorted(set(writers)):
        start = time.perf_counter()
        held = writers == w
        train = data.subset(~held)
        est = _estimator()
        thr = tune_thresholds(train.y, oof_scores(est, train, INNER_FOLDS, SEED))
        fitted = est.fit(train.texts, train.y)
        scores[held] = fitted.predict_proba(data.subset(held).texts)
        thresholds[held] = thr
        print(f"  {w}: {held.sum()} reports, {time.perf_counter() - start:.0f} s", flush=True)
    arrays = {
        "ids": np.array(data.ids, dtype=str),
        "writers": writers.astype(str),
        "y": data.y.astype(np.int8),
        "scores": scores.astype(np.float32),
        "thresholds": thresholds.astype(np.float32),
        "theme_ids": np.array(data.theme_ids, dtype=str),
    }
    np.savez_compressed(CACHE, **arrays)
    return arrays


def simulate(
    y: np.ndarray, tags: np.ndarray, reps: int, sizes: tuple[int, ...], seed: int, population: int | None = None
) -> dict[str, dict]:
    """Coverage, width and error of the three estimates over ``reps`` random samples per size.

    ``population``: each repetition first draws that many reports as the file to count (a new one
    each time, like a staff member's export of a few hundred reports); None counts all reports.
    """
    from meldtekst.reporting.estimates import ppi_counts

    k = y.shape[1]
    rng = np.random.default_rng(seed)
    out = {}
    for n in sizes:
        cover, cover_ver = np.zeros(k), np.zeros(k)
        width, width_ver = np.zeros(k), np.zeros(k)
        err, err_ver, err_raw = np.zeros(k), np.zeros(k), np.zeros(k)
        for _ in range(reps):
            pop = rng.choice(len(y), size=population, replace=False) if population else np.arange(len(y))
            yp, tp = y[pop], tags[pop]
            truth = yp.sum(axis=0)
            rows = rng.choice(len(pop), size=n, replace=False)
            est, lo, hi = ppi_counts(tp, rows, yp[rows])  # what `counts --verified` prints
            cover += (lo <= truth) & (truth <= hi)
            width += hi - lo
            err += np.abs(est - truth)
            # the verified sample alone: the same estimator with the model switched off (lam = 0)
            vest, vlo, vhi = ppi_counts(tp, rows, yp[rows], lam=0.0)
            cover_ver += (vlo <= truth) & (truth <= vhi)
            width_ver += vhi - vlo
            err_ver += np.abs(vest - truth)
            err_raw += np.abs(tp.sum(axis=0) - truth)
        r = {
            "coverage_ppi": float(cover.sum() / (reps * k)),
            "coverage_ppi_worst_theme": float(cover.min() / reps),
            "coverage_verified_only": float(cover_ver.sum() / (reps * k)),
            "themes_below_goal_ppi": int((cover / reps < GOAL).sum()),
            "width_ppi": float(width.sum() / (reps * k)),
            "width_verified_only": float(width_ver.sum() / (reps * k)),
            "width_ratio": float(width.sum() / width_ver.sum()),
            "mae_raw": float(err_raw.sum() / (reps * k)),
            "mae_ppi": float(err.sum() / (reps * k)),
            "mae_verified_only": float(err_ver.sum() / (reps * k)),
            "per_theme_coverage_ppi": [round(float(c / reps), 3) for c in cover],
        }
        out[str(n)] = r
        print(
            f"    n={n}: coverage PPI {r['coverage_ppi']:.3f} (worst theme {r['coverage_ppi_worst_theme']:.3f}), "
            f"width ratio {r['width_ratio']:.2f}, error raw {r['mae_raw']:.1f} / PPI {r['mae_ppi']:.1f}",
            flush=True,
        )
    return out


def precision(y: np.ndarray, tags: np.ndarray) -> float:
    """Micro precision of the tags: the share of given tags that are right."""
    return float((y & tags).sum() / max(1, tags.sum()))


def write_markdown(results: dict, path: Path) -> None:
    lines = [
        "### Counts with a verified sample: do the 95 % intervals hold? (`evaluation/ppi_counts.py`)",
        "",
        f"The {results['reports']:,} reports of `data/meldingen.jsonl`, each tagged by the `fast` model fitted without "
        "its writer (leave-one-writer-out: a model that never saw the style it counts); their labels are the truth. "
        f"{results['reps']:,} simple random verified samples per size; per theme, the true count in the file against "
        "the model's raw tagged count, the verified sample alone (the same estimator with the model switched off, "
        "lam = 0) and PPI++ as `meldtekst counts --verified` computes it. Coverage: share of samples x 22 themes "
        "whose 95 % interval holds the true count (goal >= 93 %). Width: PPI interval / verified-only interval. "
        "Error: mean absolute difference from the true count, in reports per theme.",
        "",
        "| scenario | tag precision | reports in file | n verified | coverage PPI | worst theme | themes < 93 % "
        "| coverage verified only | width PPI / verified only | error raw count | error PPI | error verified only |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, sc in results["scenarios"].items():
        for n, r in sc["sizes"].items():
            lines.append(
                f"| {name} | {sc['precision']:.2f} | {sc['population']:,} | {n} | {100 * r['coverage_ppi']:.1f} % | "
                f"{100 * r['coverage_ppi_worst_theme']:.1f} % | {r['themes_below_goal_ppi']} | "
                f"{100 * r['coverage_verified_only']:.1f} % | {r['width_ratio']:.2f} | {r['mae_raw']:.1f} | "
                f"{r['mae_ppi']:.1f} | {r['mae_verified_only']:.1f} |"
            )
    per_n = {n: [sc["sizes"][n] for sc in results["scenarios"].values()] for n in map(str, results["sizes"])}

    def span(n: str, key: str, scale: float = 100.0, digits: int = 1) -> str:
        values = [scale * r[key] for r in per_n[n]]
        return f"{min(values):.{digits}f}–{max(values):.{digits}f}"

    lines += [
        "",
        f"Read: with 100 verified reports the PPI intervals held the true count {span('100', 'coverage_ppi')} % of "
        f"the time (50: {span('50', 'coverage_ppi')} %; 200: {span('200', 'coverage_ppi')} %), where "
        "a theme the model rarely gets wrong can be under-covered at 50 (too few disagreements in the sample to "
        "see the error), hence the warning below 100. They are conservative for a small file (no finite-population "
        "correction), and "
        f"{span('100', 'width_ratio', 1.0, 2)} times as wide as an interval from the verified reports alone. The raw "
        "tagged count has no valid interval at all; its error grows with the model's precision gap, while the PPI "
        "error shrinks with the sample.",
        "",
        "![coverage, width and error](ppi_counts.png)",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def plot(results: dict, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 3.8))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    colours = ("#2f6690", "#d1495b", "#3a7d44")
    for (name, sc), colour in zip(results["scenarios"].items(), colours, strict=False):
        sizes = [int(n) for n in sc["sizes"]]
        rs = list(sc["sizes"].values())
        ax1.plot(sizes, [100 * r["coverage_ppi"] for r in rs], "o-", color=colour, label=name)
        ax1.plot(sizes, [100 * r["coverage_ppi_worst_theme"] for r in rs], ":", color=colour)
        ax2.plot(sizes, [r["width_ratio"] for r in rs], "o-", color=colour, label=name)
        ax3.plot(sizes, [r["mae_ppi"] for r in rs], "o-", color=colour, label=f"PPI, {name}")
        ax3.plot(sizes, [r["mae_raw"] for r in rs], "s--", color=colour, alpha=0.6, label=f"raw count, {name}")
    ax1.axhline(95, color="grey", lw=0.8)
    ax1.axhline(100 * GOAL, color="grey", lw=0.8, ls="--")
    ax1.set(title="coverage of 95 % intervals (dotted: worst theme)", xlabel="verified reports", ylabel="%")
    ax2.axhline(1, color="grey", lw=0.8)
    ax2.set(title="interval width: PPI / verified only", xlabel="verified reports")
    ax3.set(title="mean abs. error per theme (reports)", xlabel="verified reports")
    for ax in (ax1, ax2, ax3):
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_xticks(list(SIZES))
    ax1.legend(fontsize=6.5)
    ax3.legend(fontsize=6)
    FigureCanvasAgg(fig)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--refit", action="store_true", help="fit the per-writer models again instead of the cache")
    ap.add_argument("--predict-only", action="store_true")
    ap.add_argument("--render", action="store_true", help="only write the .md and .png again from ppi_counts.json")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.render:
        results = json.loads((OUT / "ppi_counts.json").read_text(encoding="utf-8"))
        write_markdown(results, OUT / "ppi_counts.md")
        plot(results, OUT / "ppi_counts.png")
        return
    start = time.perf_counter()
    if CACHE.is_file() and not args.refit:
        arrays = dict(np.load(CACHE))
    else:
        print("fitting the fast model once per held-out writer ...", flush=True)
        arrays = predict_lowo()
    if args.predict_only:
        return
    y = arrays["y"].astype(bool)
    results: dict = {"reports": len(y), "reps": args.reps, "sizes": list(SIZES), "scenarios": {}}
    for name, (scale, population) in SCENARIOS.items():
        tags = arrays["scores"] >= arrays["thresholds"] * scale
        print(f"  {name}: precision {precision(y, tags):.2f}", flush=True)
        results["scenarios"][name] = {
            "threshold_scale": scale,
            "population": population or len(y),
            "precision": round(precision(y, tags), 3),
            "sizes": simulate(y.astype(np.int8), tags.astype(np.int8), args.reps, SIZES, SEED, population),
        }
    results["theme_ids"] = [str(t) for t in arrays["theme_ids"]]
    results["seconds"] = round(time.perf_counter() - start, 1)
    (OUT / "ppi_counts.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    write_markdown(results, OUT / "ppi_counts.md")
    plot(results, OUT / "ppi_counts.png")
    print(f"done in {results['seconds']} s -> {OUT / 'ppi_counts.md'}", flush=True)


if __name__ == "__main__":
    main()
