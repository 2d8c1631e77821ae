"""Draw the blind sample of corpus round 2 for a second annotator: the same number of texts from each
new writer (seeded), ids and texts only, so the second annotator never sees the writers' labels.

Run from the repository root:  python data/agreement/round2/draw_sample.py [--per-writer 32]
Writes data/agreement/round2/blind_sample.jsonl.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
RAW = HERE.parents[1] / "raw"
WRITERS = ("W8", "W9", "W10", "W11", "W12")
SEED = 20261208


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-writer", type=int, default=32)
    args = ap.parse_args()
    rng = random.Random(SEED)
    per_writer = []
    for w in WRITERS:
        path = RAW / f"writer_{w}.jsonl"
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x] if path.is_file() else []
        per_writer.append(rng.sample(rows, min(args.per_writer, len(rows))))
    # writers interleaved, so the annotator does not label one style in a block; a writer added later
    # leaves the other writers' draws unchanged
    sample = [r for group in itertools.zip_longest(*per_writer) for r in group if r is not None]
    out = HERE / "blind_sample.jsonl"
    out.write_text(
        "".join(json.dumps({"id": r["id"], "tekst": r["tekst"]}, ensure_ascii=False) + "\n" for r in sample),
        encoding="utf-8",
    )
    print(f"{len(sample)} texts -> {out}")


if __name__ == "__main__":
    main()
