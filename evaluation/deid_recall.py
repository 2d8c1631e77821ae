"""How much of each kind of identifier does de-identification replace, and how many ordinary words go with it?

Scores `meldtekst.anonymize` on the hand-marked, fictitious passages of
``data/deid/marked_spans.jsonl`` (built by ``data/deid/build_marked_spans.py``). For every marked
span: replaced in full (no letter or digit of it survives), partial (some survive) or missed (all
survive), per kind and overall, for each part (dev; heldout, scored once the rules were final;
heldout2, written and scored after that) and for all together. Over-replacement is
the share of ordinary word tokens (outside marked spans and ``?`` stretches) that lose a letter or
digit to a placeholder. Goal (issue #20): >= 97 % replaced in full overall, >= 85 % for every kind,
<= 2 % of ordinary words replaced, on both parts. Also times `deidentify` on the first texts of
``data/meldingen.jsonl``.

    python evaluation/deid_recall.py [--json OUT] [--part dev] [--module OLD.py] [--baseline OLD.py] [--speed 300]
    # before/after: git show HEAD:src/meldtekst/anonymize.py > /tmp/old.py
    #               python evaluation/deid_recall.py --baseline /tmp/old.py
    # writes evaluation/results/deid_recall.json unless --json says otherwise
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import meldtekst.anonymize

ROOT = Path(__file__).resolve().parents[1]
MARKED = ROOT / "data" / "deid" / "marked_spans.jsonl"
REPORTS = ROOT / "data" / "meldingen.jsonl"
OUT = ROOT / "evaluation" / "results" / "deid_recall.json"
GOAL_OVERALL, GOAL_PER_KIND, GOAL_OVER = 0.97, 0.85, 0.02
_WORD = re.compile(r"\w+")


def load_module(path: str | None, name: str = "deid_under_test") -> ModuleType:
    """The anonymize module to score: the installed one, or another version from a file (e.g. the last commit's)."""
    if path is None:
        return meldtekst.anonymize
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


def load_marked(path: Path = MARKED) -> list[dict[str, Any]]:
    """The marked passages, checked to be NFC (deidentify normalises; offsets must stay valid)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        if unicodedata.normalize("NFC", row["text"]) != row["text"]:
            raise SystemExit(f"{row['id']}: text is not NFC")
    return rows


def covered_mask(module: ModuleType, text: str) -> bytearray:
    """1 for every character of ``text`` that `deidentify` replaces by a placeholder."""
    spans = module.find_spans(text)
    mask = bytearray(len(text))
    parts, pos = [], 0
    for span in spans:
        mask[span.start : span.end] = b"\x01" * (span.end - span.start)
        parts += [text[pos : span.start], f"[{span.category}]"]
        pos = span.end
    parts.append(text[pos:])
    if "".join(parts) != module.deidentify(text).text:  # find_spans is what deidentify replaces
        raise SystemExit(f"find_spans and deidentify disagree on {text[:60]!r}")
    return mask


def span_status(text: str, mask: bytearray, start: int, end: int) -> str:
    """full / partial / missed, judged on the letters and digits of ``text[start:end]``."""
    chars = [mask[i] for i in range(start, end) if text[i].isalnum()]
    hit = sum(chars)
    return "full" if hit == len(chars) else "partial" if hit else "missed"


def _tally(c: Counter[str]) -> dict[str, Any]:
    n = c["full"] + c["partial"] + c["missed"]
    return {
        "n": n,
        "full": c["full"],
        "partial": c["partial"],
        "missed": c["missed"],
        "recall_full": round(c["full"] / n, 4),
    }


def score(module: ModuleType, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-kind and overall counts, over-replacement, and every span not replaced in full."""
    per_kind: dict[str, Counter[str]] = defaultdict(Counter)
    words = replaced_words = 0
    failures, over = [], []
    for row in rows:
        text = row["text"]
        mask = covered_mask(module, text)
        personal = bytearray(len(text))
        for span in row["spans"] + row.get("ignore", []):
            personal[span["start"] : span["end"]] = b"\x01" * (span["end"] - span["start"])
        for span in row["spans"]:
            status = span_status(text, mask, span["start"], span["end"])
            per_kind[span["kind"]][status] += 1
            if status != "full":
                failures.append(
                    {"id": row["id"], "kind": span["kind"], "status": status, "span": text[span["start"] : span["end"]]}
                )
        for m in _WORD.finditer(text):
            if any(personal[m.start() : m.end()]):
                continue
            words += 1
            if any(mask[m.start() : m.end()]):
                replaced_words += 1
                over.append({"id": row["id"], "word": m.group()})
    kinds = {kind: _tally(per_kind[kind]) for kind in sorted(per_kind)}
    overall = _tally(sum(per_kind.values(), Counter()))
    over_rate = replaced_words / words if words else 0.0
    goal = (
        overall["recall_full"] >= GOAL_OVERALL
        and all(k["recall_full"] >= GOAL_PER_KIND for k in kinds.values())
        and over_rate <= GOAL_OVER
    )
    return {
        "passages": len(rows),
        "overall": overall,
        "per_kind": kinds,
        "over_replacement": {"words": words, "replaced": replaced_words, "rate": round(over_rate, 4)},
        "goal_met": goal,
        "not_in_full": failures,
        "ordinary_words_replaced": over,
    }


def speed(modules: dict[str, ModuleType], n: int, rounds: int = 3) -> dict[str, dict[str, Any]]:
    """Reports per CPU second of `deidentify` over the first ``n`` corpus texts, per module (deduce loaded).

    CPU time, best of ``rounds`` rounds that alternate between the modules: wall time on a shared
    machine says more about the neighbours than about the code.
    """
    texts = [json.loads(line)["tekst"] for line in REPORTS.read_text(encoding="utf-8").splitlines()[:n]]
    best = dict.fromkeys(modules, float("inf"))
    for module in modules.values():
        module.deidentify("Warm op, Jan.")
    for _ in range(rounds):
        for name, module in modules.items():
            started = time.process_time()
            for text in texts:
                module.deidentify(text)
            best[name] = min(best[name], time.process_time() - started)
    return {
        name: {"texts": len(texts), "cpu_seconds": round(t, 3), "reports_per_cpu_second": round(len(texts) / t, 1)}
        for name, t in best.items()
    }


def print_table(results: dict[str, dict[str, Any]]) -> None:
    parts = list(results)
    kinds = sorted({k for r in results.values() for k in r["per_kind"]})
    head = f"{'kind':<12}" + "".join(f"{p + ' full/part/miss (recall)':>38}" for p in parts)
    print(head)
    for kind in [*kinds, "OVERALL"]:
        cells = []
        for p in parts:
            k = results[p]["overall"] if kind == "OVERALL" else results[p]["per_kind"].get(kind)
            cells.append(
                f"{k['full']:>4}/{k['partial']:>2}/{k['missed']:>2} of {k['n']:>3} ({k['recall_full']:6.1%})"
                if k
                else "-"
            )
        print(f"{kind:<12}" + "".join(f"{c:>38}" for c in cells))
    print(
        f"{'over-repl.':<12}"
        + "".join(
            f"{results[p]['over_replacement']['replaced']:>14} of {results[p]['over_replacement']['words']:>4} words"
            f" ({results[p]['over_replacement']['rate']:5.1%})"
            for p in parts
        )
    )
    print("goal met: " + ", ".join(f"{p} {'yes' if results[p]['goal_met'] else 'NO'}" for p in parts))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", type=Path, default=OUT, help="where to write the results")
    ap.add_argument("--part", help="score only this part (dev, heldout, heldout2); default: each part and all")
    ap.add_argument("--module", help="score this anonymize.py file instead of the installed meldtekst.anonymize")
    ap.add_argument("--baseline", help="also score this anonymize.py file (e.g. the last commit's) for comparison")
    ap.add_argument("--speed", type=int, default=300, help="time deidentify on this many corpus texts (0: skip)")
    ap.add_argument("--show", action="store_true", help="print every span not replaced in full and every word lost")
    args = ap.parse_args(argv)

    module = load_module(args.module)
    rows = load_marked()
    parts = [args.part] if args.part else [*sorted({r["part"] for r in rows}), "all"]
    baseline: dict[str, Any] = {}
    if args.baseline:
        old = load_module(args.baseline, name="deid_baseline")
        baseline = {p: score(old, [r for r in rows if p == "all" or r["part"] == p]) for p in parts}
        print(f"baseline {args.baseline}:")
        print_table(baseline)
        print()
    results = {p: score(module, [r for r in rows if p == "all" or r["part"] == p]) for p in parts}
    print_table(results)
    if args.show:
        for p in parts[-1:]:
            for f in results[p]["not_in_full"]:
                print(f"  {f['status']:<8}{f['kind']:<11}{f['id']}  {f['span']!r}")
            for w in results[p]["ordinary_words_replaced"]:
                print(f"  over    {w['id']}  {w['word']!r}")
    out: dict[str, Any] = {
        "module": args.module or "meldtekst.anonymize",
        "marked_set": str(MARKED.relative_to(ROOT)),
        "goal": {"overall_full": GOAL_OVERALL, "per_kind_full": GOAL_PER_KIND, "over_replacement": GOAL_OVER},
        "parts": results,
    }
    if baseline:
        out["baseline"] = {"module": args.baseline, "parts": baseline}
    if args.speed:
        timed = speed({"module": module, **({"baseline": old} if args.baseline else {})}, args.speed)
        out["speed"] = timed["module"]
        if args.baseline:
            out["baseline"]["speed"] = timed["baseline"]
        for name, t in timed.items():
            print(f"deidentify ({name}): {t['reports_per_cpu_second']} reports per CPU second on {t['texts']} texts")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"-> {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
