"""Agreement between the writers' labels (annotator A, before adjudication) and an independent second
annotator B who saw only ANNOTATION_GUIDE.md and the texts (data/agreement/blind_sample.jsonl).

Only reports whose text B saw is identical to the final corpus text are compared (writers
revised some texts after the sample was drawn). This script writes the two compared labellings
(compared_a_writers.jsonl, compared_b_annotator.jsonl) and takes every figure from
`meldtekst agreement` on them (the same library function), so anyone can recompute them with

    meldtekst agreement data/agreement/compared_a_writers.jsonl data/agreement/compared_b_annotator.jsonl

It writes data/agreement/agreement.json and the datasheet's agreement section.
Run from the repository root:  python data/agreement/compute_agreement.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from meldtekst.labelling.agreement import agreement

HERE = Path(__file__).resolve().parent
A_FILE, B_FILE = HERE / "compared_a_writers.jsonl", HERE / "compared_b_annotator.jsonl"


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def main() -> None:
    sys.path.insert(0, str(HERE.parent))
    from build_corpus import IMPLIES

    # A = the writers' own labels (before adjudication) with the guide's conventions applied
    corpus = {}
    for path in sorted((HERE.parent / "raw").glob("writer_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            labels = set(r["labels"])
            for theme, implied in IMPLIES.items():
                if theme in labels:
                    labels.update(implied)
            r["labels"] = sorted(labels)
            corpus[r["id"]] = r
    blind = {
        json.loads(x)["id"]: json.loads(x)["tekst"] for x in (HERE / "blind_sample.jsonl").read_text().splitlines()
    }
    b_labels = {
        json.loads(x)["id"]: json.loads(x)["labels"] for x in (HERE / "annotator_b.jsonl").read_text().splitlines()
    }
    ids = [i for i in blind if i in corpus and corpus[i]["tekst"] == blind[i] and i in b_labels]
    excluded = sorted(set(blind) - set(ids))
    _write_jsonl(A_FILE, [{"id": i, "tekst": blind[i], "labels": corpus[i]["labels"]} for i in ids])
    _write_jsonl(B_FILE, [{"id": i, "tekst": blind[i], "labels": b_labels[i]} for i in ids])
    result = agreement(A_FILE, B_FILE).as_dict()
    per_theme = result.pop("per_theme")
    out = {
        "reports_compared": result["reports_compared"],
        "excluded_text_revised": excluded,
        "command": f"meldtekst agreement data/agreement/{A_FILE.name} data/agreement/{B_FILE.name} --json",
        **{k: v for k, v in result.items() if k not in ("reports_compared", "texts_differ")},
        "per_theme": per_theme,
    }
    (HERE / "agreement.json").write_text(json.dumps(out, indent=2) + "\n")
    from build_corpus import replace_section

    lines = [
        f"Compared reports: {out['reports_compared']}; identical label sets: {out['identical_label_sets']}. "
        f"Micro-F1 (B against A) {out['micro_f1']}, macro-F1 {out['macro_f1']}, mean Cohen's κ "
        f"{out['mean_kappa']}, Krippendorff's α over all theme decisions {out['krippendorff_alpha_all_decisions']} "
        f"(`{out['command'].removesuffix(' --json')}`).",
        "",
        "| theme | κ | positives A | positives B | F1 B vs A |",
        "|---|---|---|---|---|",
    ]
    for t, v in per_theme.items():
        lines.append(f"| {t} | {v['kappa']} | {v['positives_a']} | {v['positives_b']} | {v['f1_b_vs_a']} |")
    replace_section("agreement", "\n".join(lines))
    print(json.dumps({k: v for k, v in out.items() if k != "per_theme"}, indent=1))
    for t, v in per_theme.items():
        print(f"{t:28s} kappa {v['kappa']}  A {v['positives_a']:3d}  B {v['positives_b']:3d}")


if __name__ == "__main__":
    main()
