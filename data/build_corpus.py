"""Build data/meldingen.jsonl from the writers' files in data/raw/.

Steps: read every writer file, check schema and labels against the codebook,
apply the label conventions of ANNOTATION_GUIDE.md, drop exact and near
duplicates, assign stable ids, split train/dev/test (70/15/15) with iterative
multi-label stratification (seed 20241), check every theme has >= 8 positives in
dev and in test, and write corpus statistics (data/corpus_stats.json).

Run from the repository root:  python data/build_corpus.py
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neighbors import NearestNeighbors

from meldtekst.codebook import load_codebook

DATA = Path(__file__).resolve().parent
RAW = DATA / "raw"
SEED = 20241
NEAR_DUP_COSINE = 0.8
SENTENCE_MIN_WORDS = 6

# Conventions of the annotation guide, applied so every writer's labels agree with them.
IMPLIES = {
    "vt_melding": ["sector_jeugdhulp_zorg"],
    "kinderbeschermingsmaatregel": ["sector_jeugdhulp_zorg"],
    "thuiszitter": ["sector_onderwijs"],
    "leerplicht_handhaving": ["sector_onderwijs"],
}


def replace_section(name: str, markdown: str, path: Path = DATA / "README.md") -> None:
    """Put generated tables between <!-- name:start --> and <!-- name:end --> in the datasheet."""
    text = path.read_text(encoding="utf-8")
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    a, b = text.index(start) + len(start), text.index(end)
    path.write_text(text[:a] + "\n" + markdown.strip() + "\n" + text[b:], encoding="utf-8")


def stats_markdown(stats: dict, theme_ids: tuple[str, ...]) -> str:
    sp = stats["split_sizes"]
    lines = [
        "## Composition",
        "",
        f"{stats['reports']} reports (train {sp['train']} / dev {sp['dev']} / test {sp['test']}); "
        f"{stats['no_theme']} without any theme; {stats['labels_per_report_mean']} themes per report on average.",
        f"Words per report: min {stats['words']['min']}, median {stats['words']['median']:.0f}, "
        f"90th percentile {stats['words']['p90']:.0f}, max {stats['words']['max']}.",
        "Writers: " + ", ".join(f"{k} {v}" for k, v in sorted(stats["writers"].items())) + ". "
        "Roles: " + ", ".join(f"{k} {v}" for k, v in stats["roles"].items()) + ". "
        "Years: " + ", ".join(f"{k} {v}" for k, v in stats["years"].items()) + ".",
        f"Duplicates dropped: {stats['dropped_exact_duplicates']} exact, {stats['dropped_shared_sentence']} "
        f"sharing a sentence, {len(stats['dropped_near_duplicates'])} near duplicates; highest remaining "
        f"nearest-neighbour cosine {stats['max_nearest_neighbour_cosine_after']}.",
        "",
        "| theme | total | train | dev | test |",
        "|---|---|---|---|---|",
    ]
    pts = stats["per_theme_per_split"]
    for t in theme_ids:
        lines.append(
            f"| {t} | {stats['per_theme_total'][t]} | {pts['train'][t]} | {pts['dev'][t]} | {pts['test'][t]} |"
        )
    return "\n".join(lines)


def split_sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [" ".join(p.lower().split()) for p in parts if len(p.split()) >= SENTENCE_MIN_WORDS]


def adjudicated_labels() -> dict[str, list[str]]:
    """Final labels decided in adjudication (agreement study and corpus-wide rule passes),
    from data/agreement/adjudicated*.jsonl, later files winning."""
    out: dict[str, list[str]] = {}
    for path in sorted((DATA / "agreement").glob("adjudicated*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out[row["bron_id"]] = row["labels"]
    return out


def _previous() -> dict[str, dict]:
    """bron_id -> the row it has in the current data/meldingen.jsonl (id and split stay fixed)."""
    corpus = DATA / "meldingen.jsonl"
    if not corpus.is_file():
        return {}
    rows = (json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip())
    return {row["bron_id"]: row for row in rows}


def _stratified(y: np.ndarray) -> np.ndarray:
    split = np.array(["train"] * len(y), dtype=object)
    if len(y) < 10:
        return split
    outer = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=0.30, random_state=SEED)
    _, rest = next(outer.split(np.zeros(len(y)), y))
    inner = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=0.50, random_state=SEED)
    dev_i, test_i = next(inner.split(np.zeros(len(rest)), y[rest]))
    split[rest[dev_i]] = "dev"
    split[rest[test_i]] = "test"
    return split


def assign_splits(kept: list[dict], y: np.ndarray) -> np.ndarray:
    """The fixed split: reports already in data/meldingen.jsonl keep theirs (so relabelling or a new
    corpus round never reshuffles train/dev/test); new reports are split 70/15/15 among themselves."""
    previous = _previous()
    split = np.array([previous[r["id"]]["split"] if r["id"] in previous else "" for r in kept], dtype=object)
    new = np.flatnonzero(split == "")
    if len(new):
        split[new] = _stratified(y[new])
    return split


def writer_key(source_id: str) -> tuple[int, str]:
    """W2-0001 before W10-0001 (numeric writer order, not string order)."""
    writer = source_id.split("-")[0]
    digits = "".join(c for c in writer if c.isdigit())
    return (int(digits) if digits else 0, source_id)


def assign_ids(kept: list[dict]) -> list[str]:
    """Corpus ids stay with their report: existing reports keep their M-id, new ones continue after
    the highest, in writer order."""
    previous = _previous()
    taken = {previous[r["id"]]["id"] for r in kept if r["id"] in previous}
    n = max((int(i.split("-")[1]) for i in (row["id"] for row in previous.values())), default=0)
    out = []
    for r in kept:
        if r["id"] in previous:
            out.append(previous[r["id"]]["id"])
        else:
            n += 1
            while f"M-{n:04d}" in taken:
                n += 1
            out.append(f"M-{n:04d}")
    return out


def main() -> int:
    cb = load_codebook()
    overrides = adjudicated_labels()
    records: list[dict] = []
    # writers in numeric order, so an earlier round's report wins a duplicate check against a later one
    for path in sorted(RAW.glob("writer_*.jsonl"), key=lambda p: writer_key(p.stem.removeprefix("writer_"))):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{path.name} row {n}: invalid JSON ({exc.msg}); skipped", file=sys.stderr)
                continue
            unknown = [t for t in rec.get("labels", []) if t not in cb]
            if unknown or not str(rec.get("tekst", "")).strip():
                print(f"{path.name} row {n}: unknown labels {unknown} or empty text; skipped", file=sys.stderr)
                continue
            labels = set(overrides.get(rec["id"], rec["labels"]))
            rec["labels_writer"] = cb.order(rec["labels"])
            for theme, implied in IMPLIES.items():
                if theme in labels:
                    labels.update(implied)
            rec["labels"] = cb.order(labels)
            records.append(rec)

    # exact duplicates of whole texts, then shared sentences, then near duplicates
    seen_text: set[str] = set()
    unique: list[dict] = []
    for rec in records:
        key = " ".join(rec["tekst"].lower().split())
        if key in seen_text:
            continue
        seen_text.add(key)
        unique.append(rec)
    sentence_owner: dict[str, str] = {}
    shared = []
    for rec in unique:
        for s in split_sentences(rec["tekst"]):
            if s in sentence_owner and sentence_owner[s] != rec["id"]:
                shared.append((sentence_owner[s], rec["id"], s))
            sentence_owner.setdefault(s, rec["id"])
    drop_ids = {b for _, b, _ in shared}
    kept = [r for r in unique if r["id"] not in drop_ids]

    texts = [r["tekst"] for r in kept]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit(texts)
    X = vec.transform(texts)
    nn = NearestNeighbors(n_neighbors=2, metric="cosine").fit(X)
    dist, idx = nn.kneighbors(X)
    near = []
    for i in range(len(kept)):
        j, cos = int(idx[i, 1]), 1 - float(dist[i, 1])
        if cos >= NEAR_DUP_COSINE and i > j:
            near.append((kept[j]["id"], kept[i]["id"], round(cos, 3)))
    near_drop = {b for _, b, _ in near}
    kept = [r for r in kept if r["id"] not in near_drop]
    max_cos = float(np.max(1 - dist[:, 1])) if len(kept) > 1 else 0.0

    # stable order: by writer (numerically), then source id; corpus ids M-0001.. stay with their report
    kept.sort(key=lambda r: writer_key(r["id"]))
    y = np.array([[int(t in r["labels"]) for t in cb.ids] for r in kept])
    split = assign_splits(kept, y)
    ids = assign_ids(kept)

    out_path = DATA / "meldingen.jsonl"
    with out_path.open("w", encoding="utf-8") as fh:
        for rec, s, corpus_id in zip(kept, split, ids, strict=True):
            row = {
                "id": corpus_id,
                "datum": rec.get("datum"),
                "rol": rec.get("rol"),
                "schrijver": rec.get("schrijver", rec["id"].split("-")[0]),
                "bron_id": rec["id"],
                "split": str(s),
                "genre": rec.get("genre", "melding"),
                "tekst": rec["tekst"],
                "labels": rec["labels"],
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")

    per_split = {s: {t: int(y[split == s, j].sum()) for j, t in enumerate(cb.ids)} for s in ("train", "dev", "test")}
    words = np.array([len(r["tekst"].split()) for r in kept])
    stats = {
        "reports": len(kept),
        "adjudicated_reports": sum(1 for r in kept if r["id"] in overrides),
        "adjudicated_label_changes": sum(1 for r in kept if r["labels"] != r["labels_writer"]),
        "read": len(records),
        "dropped_exact_duplicates": len(records) - len(unique),
        "dropped_shared_sentence": len(drop_ids),
        "shared_sentence_examples": shared[:10],
        "dropped_near_duplicates": near,
        "near_duplicate_threshold_cosine": NEAR_DUP_COSINE,
        "max_nearest_neighbour_cosine_after": round(max_cos, 3),
        "split_sizes": {s: int((split == s).sum()) for s in ("train", "dev", "test")},
        "per_theme_per_split": per_split,
        "per_theme_total": {t: int(y[:, j].sum()) for j, t in enumerate(cb.ids)},
        "no_theme": int((y.sum(axis=1) == 0).sum()),
        "labels_per_report_mean": round(float(y.sum(axis=1).mean()), 2),
        "writers": dict(Counter(r.get("schrijver", r["id"].split("-")[0]) for r in kept)),
        "genres": dict(Counter(r.get("genre", "melding") for r in kept)),
        "roles": dict(Counter(r.get("rol") for r in kept)),
        "years": dict(sorted(Counter(str(r.get("datum", ""))[:4] for r in kept).items())),
        "words": {
            "min": int(words.min()),
            "median": float(np.median(words)),
            "p90": float(np.percentile(words, 90)),
            "max": int(words.max()),
        },
        "sha256": hashlib.sha256(out_path.read_bytes()).hexdigest(),
    }
    (DATA / "corpus_stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False) + "\n")
    replace_section("stats", stats_markdown(stats, cb.ids))
    low = {s: [t for t, c in per_split[s].items() if c < 8] for s in ("dev", "test")}
    print(json.dumps({k: stats[k] for k in ("reports", "split_sizes", "no_theme", "writers")}, indent=1))
    if any(low.values()):
        print(f"WARNING: themes with < 8 positives: {low}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
