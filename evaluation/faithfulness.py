"""Are the explanations of `meldtekst tag --explain` faithful to the model? ERASER-style checks
(DeYoung et al. 2020) on the test split, with the model's own scores.

For every test report and every theme the model assigns, with its top-K explanation spans:

- comprehensiveness: score(report) - score(report without the K spans); large when the
  spans are what the model used;
- random baseline: the same drop when K random spans of the same lengths (in words) are
  removed instead, averaged over --draws draws;
- sufficiency: score(the K spans alone, joined by spaces), next to score(report) and the
  score of the random spans alone.

Every score here is the model's `predict_proba` on the changed text itself, never the
linear shortcut `meldtekst.explain` uses to rank spans, so this also checks that shortcut.
Goal: median comprehensiveness >= 3x the median random baseline for every theme with >= 8
positives in the test split.

    python evaluation/faithfulness.py [--model fast] [--k 5] [--draws 10]
    # writes evaluation/results/faithfulness.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from meldtekst.explain import SpanWeight, explain_scores, remove_spans
from meldtekst.models.store import ThemeModelDir, load_model
from meldtekst.text import nlp
from meldtekst.validate import load_labelled

ROOT = Path(__file__).resolve().parents[1]
GOAL_RATIO = 3.0
MIN_POSITIVES = 8


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every word of ``text``, in order."""
    return [(t.idx, t.idx + len(t.text)) for t in nlp().tokenizer(text) if not (t.is_punct or t.is_space)]


def random_spans(
    words: list[tuple[int, int]], lengths: list[int], rng: np.random.Generator
) -> list[tuple[int, int]] | None:
    """Non-overlapping runs of consecutive words with the given lengths, at random places."""
    taken = np.zeros(len(words), dtype=bool)
    out = []
    for n in sorted(lengths, reverse=True):
        starts = [i for i in range(len(words) - n + 1) if not taken[i : i + n].any()]
        if not starts:
            return None
        i = int(rng.choice(starts))
        taken[i : i + n] = True
        out.append((words[i][0], words[i + n - 1][1]))
    return out


def n_words(text: str, span: SpanWeight) -> int:
    return max(1, len(word_spans(text[span.start : span.end])))


def measure_report(
    model: ThemeModelDir, text: str, *, k: int, draws: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """One row per assigned theme: full score, after removing the spans, after removing random
    spans (mean over draws), spans alone, random spans alone."""
    thresholds = model.thresholds

    def assigned(full: np.ndarray) -> list[int]:
        return [int(j) for j in np.flatnonzero(full >= thresholds)]

    full, spans = explain_scores(model, text, assigned, k=k)
    words = word_spans(text)
    texts: list[str] = []
    plan = []
    for theme, chosen in spans.items():
        if not chosen:
            continue
        j = model.theme_ids.index(theme)
        ranges = [(s.start, s.end) for s in chosen]
        lengths = [n_words(text, s) for s in chosen]
        randoms = [r for r in (random_spans(words, lengths, rng) for _ in range(draws)) if r is not None]
        first = len(texts)
        texts.append(remove_spans(text, ranges))
        texts.append(" ".join(text[a:b] for a, b in sorted(ranges)))
        for r in randoms:
            texts.append(remove_spans(text, r))
            texts.append(" ".join(text[a:b] for a, b in sorted(r)))
        plan.append((theme, j, chosen, first, len(randoms)))
    if not texts:
        return []
    proba = model.predict_proba(texts)
    rows = []
    for theme, j, chosen, first, n_random in plan:
        removed, alone = proba[first, j], proba[first + 1, j]
        rand_removed = proba[first + 2 : first + 2 + 2 * n_random : 2, j]
        rand_alone = proba[first + 3 : first + 3 + 2 * n_random : 2, j]
        rows.append(
            {
                "theme": theme,
                "spans": len(chosen),
                "words": sum(n_words(text, s) for s in chosen),
                "full": float(full[j]),
                "comprehensiveness": float(full[j] - removed),
                "random_comprehensiveness": float(np.mean(full[j] - rand_removed)) if n_random else None,
                "sufficiency": float(alone),
                "random_sufficiency": float(np.mean(rand_alone)) if n_random else None,
            }
        )
    return rows


def summarise(rows: list[dict[str, Any]], positives: dict[str, int], theme_ids: tuple[str, ...]) -> dict[str, Any]:
    per_theme: dict[str, Any] = {}
    for theme in theme_ids:
        mine = [r for r in rows if r["theme"] == theme and r["random_comprehensiveness"] is not None]
        entry: dict[str, Any] = {"test_positives": positives.get(theme, 0), "explained": len(mine)}
        if mine:
            comp = float(np.median([r["comprehensiveness"] for r in mine]))
            rand = float(np.median([r["random_comprehensiveness"] for r in mine]))
            entry.update(
                {
                    "median_comprehensiveness": round(comp, 4),
                    "median_random_comprehensiveness": round(rand, 4),
                    "ratio": round(comp / rand, 2) if rand > 0 else None,
                    "mean_comprehensiveness": round(float(np.mean([r["comprehensiveness"] for r in mine])), 4),
                    "median_full_score": round(float(np.median([r["full"] for r in mine])), 4),
                    "median_sufficiency": round(float(np.median([r["sufficiency"] for r in mine])), 4),
                    "median_random_sufficiency": round(float(np.median([r["random_sufficiency"] for r in mine])), 4),
                    "median_spans": float(np.median([r["spans"] for r in mine])),
                    "median_words": float(np.median([r["words"] for r in mine])),
                }
            )
            checked = entry["test_positives"] >= MIN_POSITIVES
            entry["goal_checked"] = checked
            entry["goal_met"] = (comp >= GOAL_RATIO * rand and comp > 0) if checked else None
        per_theme[theme] = entry
    checked = [t for t, e in per_theme.items() if e.get("goal_checked")]
    unexplained = [t for t, e in per_theme.items() if e["test_positives"] >= MIN_POSITIVES and not e["explained"]]
    usable = [r for r in rows if r["random_comprehensiveness"] is not None]
    return {
        "per_theme": per_theme,
        "overall": {
            "pairs": len(usable),
            "median_comprehensiveness": round(float(np.median([r["comprehensiveness"] for r in usable])), 4),
            "median_random_comprehensiveness": round(
                float(np.median([r["random_comprehensiveness"] for r in usable])), 4
            ),
            "median_sufficiency": round(float(np.median([r["sufficiency"] for r in usable])), 4),
            "median_random_sufficiency": round(float(np.median([r["random_sufficiency"] for r in usable])), 4),
            "median_full_score": round(float(np.median([r["full"] for r in usable])), 4),
        },
        "goal": {
            "rule": (
                f"median comprehensiveness >= {GOAL_RATIO:g}x median random comprehensiveness, "
                f"for themes with >= {MIN_POSITIVES} test positives"
            ),
            "themes_checked": len(checked),
            "themes_met": sum(1 for t in checked if per_theme[t]["goal_met"]),
            "themes_not_met": [t for t in checked if not per_theme[t]["goal_met"]],
            "themes_never_assigned": unexplained,
            "all_met": all(per_theme[t]["goal_met"] for t in checked) and not unexplained,
        },
    }


def _shown(path: Path | None) -> str:
    """A model directory relative to the repository where it is inside it."""
    if path is None:
        return ""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="fast", help="fast | model DIR (default fast)")
    ap.add_argument("--data", default=str(ROOT / "data" / "meldingen.jsonl"))
    ap.add_argument("--split", default="test")
    ap.add_argument("--k", type=int, default=5, help="explanation spans per theme")
    ap.add_argument("--draws", type=int, default=10, help="random span sets per report and theme")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0, help="only the first N reports (quick look)")
    ap.add_argument("--out", default=str(ROOT / "evaluation" / "results" / "faithfulness.json"))
    args = ap.parse_args()
    model = load_model(args.model)
    data = load_labelled(args.data)
    split = data.frame["split"].astype(str).to_numpy() == args.split
    data = data.subset(split)
    texts = data.texts[: args.limit] if args.limit else data.texts
    positives = {t: int(data.y[:, j].sum()) for j, t in enumerate(data.theme_ids)}
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for i, text in enumerate(texts, start=1):
        rows.extend(measure_report(model, text, k=args.k, draws=args.draws, rng=rng))
        if i % 25 == 0:
            print(f"{i}/{len(texts)} reports, {time.perf_counter() - start:.0f} s", flush=True)
    result = {
        "model": f"{model.name} {model.version}",
        "model_path": _shown(model.path),
        "data": Path(args.data).name,
        "split": args.split,
        "reports": len(texts),
        "k": args.k,
        "draws": args.draws,
        "seed": args.seed,
        "method": (
            "occlusion: weight = score(report) - score(report without span), candidates = words, 2-3 word "
            "phrases within a sentence, whole sentences; scores below are predict_proba on the changed texts"
        ),
        "seconds": round(time.perf_counter() - start, 1),
        **summarise(rows, positives, model.theme_ids),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{'theme':28} {'pos':>4} {'n':>4} {'comp':>7} {'random':>7} {'ratio':>6} {'suff':>6} {'full':>6}  goal")
    for theme, e in result["per_theme"].items():
        if not e["explained"]:
            print(f"{theme:28} {e['test_positives']:>4} {0:>4}  (never assigned)")
            continue
        ratio = f"{e['ratio']:.1f}" if e["ratio"] is not None else "inf"
        goal = {True: "met", False: "NOT MET", None: "-"}[e["goal_met"]]
        print(
            f"{theme:28} {e['test_positives']:>4} {e['explained']:>4} {e['median_comprehensiveness']:>7.3f} "
            f"{e['median_random_comprehensiveness']:>7.3f} {ratio:>6} {e['median_sufficiency']:>6.3f} "
            f"{e['median_full_score']:>6.3f}  {goal}"
        )
    g = result["goal"]
    print(f"goal met for {g['themes_met']}/{g['themes_checked']} themes; written to {out}")


if __name__ == "__main__":
    main()
