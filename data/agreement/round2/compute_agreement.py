"""Agreement in corpus round 2: the writers' own labels (A, with the guide's conventions applied)
against a blind second annotator (B) who saw only ANNOTATION_GUIDE.md (v1.2) and the texts of
round2/blind_sample.jsonl. Every figure comes from `meldtekst agreement`, so anyone can recompute
them with

    meldtekst agreement data/agreement/round2/compared_a_writers.jsonl data/agreement/round2/compared_b_annotator.jsonl

Writes round2/agreement.json and the datasheet's round-2 agreement section.
Run from the repository root:  python data/agreement/round2/compute_agreement.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from meldtekst.labelling.agreement import agreement

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1]
A_FILE, B_FILE = HERE / "compared_a_writers.jsonl", HERE / "compared_b_annotator.jsonl"
REL = "data/agreement/round2"


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def main() -> None:
    sys.path.insert(0, str(DATA))
    from build_corpus import IMPLIES, replace_section

    writers = {}
    for path in sorted((DATA / "raw").glob("writer_*.jsonl")):
        for r in _rows(path):
            labels = set(r["labels"])
            for theme, implied in IMPLIES.items():
                if theme in labels:
                    labels.update(implied)
            writers[r["id"]] = {**r, "labels": sorted(labels)}
    blind = {r["id"]: r["tekst"] for r in _rows(HERE / "blind_sample.jsonl")}
    b_labels: dict[str, list[str]] = {}
    for path in sorted(HERE.glob("annotator_b*.jsonl")):
        b_labels.update({r["id"]: r["labels"] for r in _rows(path)})
    ids = [i for i in blind if i in writers and writers[i]["tekst"] == blind[i] and i in b_labels]
    excluded = sorted(set(blind) - set(ids))
    _write_jsonl(A_FILE, [{"id": i, "tekst": blind[i], "labels": writers[i]["labels"]} for i in ids])
    _write_jsonl(B_FILE, [{"id": i, "tekst": blind[i], "labels": b_labels[i]} for i in ids])
    result = agreement(A_FILE, B_FILE).as_dict()
    per_theme = result.pop("per_theme")
    per_writer: dict[str, int] = {}
    for i in ids:
        per_writer[i.split("-")[0]] = per_writer.get(i.split("-")[0], 0) + 1
    out = {
        "reports_compared": result["reports_compared"],
        "per_writer": per_writer,
        "excluded_text_revised_or_unlabelled": excluded,
        "command": f"meldtekst agreement {REL}/{A_FILE.name} {REL}/{B_FILE.name} --json",
        **{k: v for k, v in result.items() if k not in ("reports_compared", "texts_differ")},
        "per_theme": per_theme,
    }
    (HERE / "agreement.json").write_text(json.dumps(out, indent=2) + "\n")
    lines = [
        f"Round 2: {out['reports_compared']} texts of the new writers "
        f"({', '.join(f'{w} {n}' for w, n in sorted(per_writer.items()))}); identical label sets: "
        f"{out['identical_label_sets']}. Micro-F1 (B against A) {out['micro_f1']}, macro-F1 {out['macro_f1']}, "
        f"mean Cohen's κ {out['mean_kappa']}, Krippendorff's α {out['krippendorff_alpha_all_decisions']} "
        f"(`{out['command'].removesuffix(' --json')}`). Every disagreement was adjudicated "
        "(`agreement/adjudicated_3_round2.jsonl`).",
        "",
        "| theme | κ | positives A | positives B | F1 B vs A |",
        "|---|---|---|---|---|",
    ]
    for t, v in per_theme.items():
        lines.append(f"| {t} | {v['kappa']} | {v['positives_a']} | {v['positives_b']} | {v['f1_b_vs_a']} |")
    replace_section("agreement-round2", "\n".join(lines))
    print(json.dumps({k: v for k, v in out.items() if k != "per_theme"}, indent=1))


if __name__ == "__main__":
    main()
