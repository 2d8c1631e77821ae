"""Agreement between the writers' labels (annotator A, before adjudication) and an independent second
annotator B who saw only ANNOTATION_GUIDE.md and the texts (data/agreement/blind_sample.jsonl).

Only reports whose text B saw is identical to the final corpus text are compared (writers
revised some texts after the sample was drawn). Writes data/agreement/agreement.json.
Run from the repository root:  python data/agreement/compute_agreement.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score, f1_score

from meldtekst.codebook import load_codebook

HERE = Path(__file__).resolve().parent


def main() -> None:
    sys.path.insert(0, str(HERE.parent))
    from build_corpus import IMPLIES

    cb = load_codebook()
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
    A = np.array([[int(t in corpus[i]["labels"]) for t in cb.ids] for i in ids])
    B = np.array([[int(t in b_labels[i]) for t in cb.ids] for i in ids])
    per_theme = {}
    for j, t in enumerate(cb.ids):
        per_theme[t] = {
            "kappa": round(float(cohen_kappa_score(A[:, j], B[:, j])), 3) if A[:, j].any() or B[:, j].any() else None,
            "positives_a": int(A[:, j].sum()),
            "positives_b": int(B[:, j].sum()),
            "f1_b_vs_a": round(float(f1_score(A[:, j], B[:, j], zero_division=0)), 3),
        }
    alpha = krippendorff.alpha(reliability_data=np.vstack([A.ravel(), B.ravel()]), level_of_measurement="nominal")
    out = {
        "reports_compared": len(ids),
        "excluded_text_revised": excluded,
        "micro_f1": round(float(f1_score(A, B, average="micro")), 3),
        "macro_f1": round(float(f1_score(A, B, average="macro", zero_division=0)), 3),
        "mean_kappa": round(float(np.mean([v["kappa"] for v in per_theme.values() if v["kappa"] is not None])), 3),
        "krippendorff_alpha_all_decisions": round(float(alpha), 3),
        "identical_label_sets": int((A == B).all(axis=1).sum()),
        "per_theme": per_theme,
    }
    (HERE / "agreement.json").write_text(json.dumps(out, indent=2) + "\n")
    from build_corpus import replace_section

    lines = [
        f"Compared reports: {out['reports_compared']}; identical label sets: {out['identical_label_sets']}. "
        f"Micro-F1 (B against A) {out['micro_f1']}, macro-F1 {out['macro_f1']}, mean Cohen's κ "
        f"{out['mean_kappa']}, Krippendorff's α over all theme decisions {out['krippendorff_alpha_all_decisions']}.",
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
