"""Render evaluation/RESULTS.md from the JSON files the measuring scripts write in evaluation/results/.

python evaluation/make_results.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from meldtekst.codebook import load_codebook

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.is_file() else None


def _f(v: Any, digits: int = 3) -> str:
    return f"{v:.{digits}f}" if isinstance(v, (int, float)) else ("–" if v is None else str(v))


def _runs(t: dict[str, Any]) -> str:
    n = len(t.get("tag_seconds_runs", [])) or 1
    return "one run" if n == 1 else f"median of {n} runs {t['tag_seconds_runs']}"


def benchmark_section(b: dict[str, Any]) -> list[str]:
    systems = b["systems"]
    names = list(systems)
    out = [
        "## Benchmark: quality and training time",
        "",
        f"`python evaluation/benchmark.py` — {b['date']}, {b['machine']}. Corpus split sizes: "
        + ", ".join(f"{k} {v}" for k, v in b["split_sizes"].items())
        + ". Every trained system gets per-theme thresholds from 5-fold out-of-fold scores on train "
        "(2-fold inside each leave-one-writer-out fold); the keyword rules use none.",
        "",
        "Leave-one-writer-out (LOWO): train on six of the seven writers (distinct style briefs), score "
        "the seventh, macro-F1 over themes with ≥ 4 positives in the held-out writer, mean of the seven. "
        'It is the closest proxy here for reports in styles the model never saw. "reports/s in process" '
        "is predict_proba on the 189 test reports inside the benchmark process; for the frozen-encoder "
        "heads the embeddings were already cached there, so only the end-to-end figures below count as speed.",
        "",
        "| system | test micro-F1 | test macro-F1 | LOWO macro-F1 (mean) | train s | reports/s in process |",
        "|---|---|---|---|---|---|",
    ]
    for n in names:
        s = systems[n]
        lowo = s.get("lowo_macro_f1", {}).get("mean") if s.get("lowo_macro_f1") else None
        out.append(
            f"| {n} | {_f(s['test_micro_f1'])} | {_f(s['test_macro_f1'])} | {_f(lowo)} | "
            f"{_f(s['train_seconds'], 1)} | {_f(s['in_process_reports_per_second'], 0)} |"
        )
    for n in names:
        s = systems[n]
        if s.get("config"):
            out += [
                "",
                f"{n}: a model directory trained by `meldtekst train -c training/configs/{s.get('config_file')}` "
                f"(same corpus and split), scored by `--model-dir`; thresholds from {s['thresholds_from']}"
                + (f", epoch {s['best_epoch']} kept" if s.get("best_epoch") else "")
                + "; train s is its recorded training time. LOWO not run: it would be seven fine-tunings.",
            ]
    shipped = []
    for name in ("fast", "accurate"):
        meta_file = HERE.parent / "models" / name / "meta.json"
        if meta_file.is_file():
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            test = meta.get("metrics", {}).get("test")
            if test and meta.get("training_data", {}).get("fit_on") == "train+dev":
                shipped.append(
                    f"`{name}` v{meta['version']} test macro-F1 {test['macro_f1']:.3f}, micro {test['micro_f1']:.3f}"
                )
    if shipped:
        out += [
            "",
            "This benchmark ran on the 1,215 reports of corpus round 1. The shipped models are now v4, fitted "
            "on train and dev of the 1,960-report corpus after selection (`fit_on: train+dev`, thresholds from "
            "writer-held-out out-of-fold scores, test unseen), so their figures are on the enlarged test split "
            "and not comparable with the rows above: " + "; ".join(shipped) + '. The section "Shipped models v4 '
            'against v3" compares them on one test split.',
        ]
    lowo_rows = [n for n in names if systems[n].get("lowo_macro_f1")]
    if lowo_rows:
        writers = [w for w in systems[lowo_rows[0]]["lowo_macro_f1"] if w not in ("mean", "note")]
        out += [
            "",
            "LOWO per held-out writer:",
            "",
            "| system | " + " | ".join(writers) + " |",
            "|---|" + "---|" * len(writers),
        ]
        for n in lowo_rows:
            lw = systems[n]["lowo_macro_f1"]
            note = f" ({lw['note']})" if lw.get("note") else ""
            out.append(f"| {n}{note} | " + " | ".join(_f(lw.get(w)) for w in writers) + " |")
    out += ["", "Per-theme F1 on test:", "", "| theme | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for t in load_codebook().ids:
        out.append(f"| {t} | " + " | ".join(_f(systems[n]["per_theme_f1"].get(t)) for n in names) + " |")
    tp = b.get("throughput_fast")
    if tp:
        out += [
            "",
            "## Throughput of `fast`, end to end",
            "",
            f"`meldtekst tag` on {tp['reports']:,} corpus-like reports (CSV in, CSV out, evidence on), whole "
            f"process including start-up, median of {len(tp['tag_seconds_runs'])} runs: "
            f"**{tp['reports_per_second']:.0f} reports/s** ({tp['tag_seconds_median']} s; runs "
            f"{tp['tag_seconds_runs']}). Bare CSV read + write of the same file (the I/O floor): "
            f"{tp['csv_read_write_seconds_median']} s.",
        ]
    ta = b.get("throughput_accurate")
    if ta:
        out += [
            "",
            f"`accurate`, same command on {ta['reports']:,} reports, {_runs(ta)}: **{ta['reports_per_second']:.0f} "
            f"reports/s** ({ta['tag_seconds_median']} s, including the encoder's start-up); corpus reports "
            "have a median of ~90 e5 tokens.",
        ]
    tl = b.get("throughput_accurate_long")
    if tl:
        out += [
            "",
            f"`accurate` on {tl['reports']:,} longer reports (two corpus reports joined, all distinct, median "
            f"~265 e5 tokens), {_runs(tl)}: **{tl['reports_per_second']:.0f} reports/s** "
            f"({tl['tag_seconds_median']} s; goal ≥ 50: {'met' if tl['reports_per_second'] >= 50 else 'missed'}).",
        ]
    return out


def quantization_section(q: dict[str, Any]) -> list[str]:
    goal = "met" if q["identical_theme_sets"] >= 0.99 else "missed"
    out = [
        "## `accurate`: encoder in fp32 (PyTorch) vs ONNX int8, side by side (test split)",
        "",
        f"`python evaluation/quantization.py` — {q['reports']} test reports, {q['date']}, {q['machine']}.",
        "",
        "| | fp32 (torch) | int8 (ONNX Runtime) |",
        "|---|---|---|",
        f"| macro-F1 | {_f(q['macro_f1']['fp32'])} | {_f(q['macro_f1']['int8'])} |",
        f"| encoder + head, reports/s (median of 3) | {q['reports_per_s']['torch']} "
        f"| {q['reports_per_s']['onnx-int8']} |",
        "",
        f"Identical theme sets: **{q['identical_theme_sets']:.1%}** of reports (goal ≥ 99 %: {goal}); "
        f"{q['theme_decisions_differing']} of {q['reports'] * 22} theme decisions differ; score difference "
        f"median {q['median_abs_score_diff']}, max {q['max_abs_score_diff']}.",
    ]
    if q.get("variants"):
        out += [
            "",
            "Other quantisations of the same encoder (`--variants`), against PyTorch fp32 on the same reports, "
            "with the shipped head; encoder alone, one window per run:",
            "",
            "| encoder | cosine to fp32 (mean / min) | identical theme sets | texts/s (median of 3) |",
            "|---|---|---|---|",
        ]
        for name, v in q["variants"].items():
            out.append(
                f"| {name} | {v['cosine_mean']:.5f} / {v['cosine_min']:.5f} | {v['identical_theme_sets']:.1%} "
                f"| {v['encoder_texts_per_s']} |"
            )
    return out


def encoder_variants_section(d: dict[str, Any]) -> list[str]:
    out = [
        "## `accurate`: encoder depth and window length",
        "",
        "`python evaluation/encoder_variants.py` — the `accurate` recipe with only the first N layers of e5-small "
        "and/or 512-token windows, fitted and scored like the benchmark's systems; identical theme sets: the same "
        f"head on PyTorch fp32 embeddings instead of ONNX int8 (189 test reports). {d['date']}, {d['machine']}.",
        "",
        "| encoder | test macro-F1 | test micro-F1 | LOWO macro-F1 (mean) | int8 = fp32 theme sets "
        "| max score difference | encoder reports/s at ~265 tokens |",
        "|---|---|---|---|---|---|---|",
    ]
    speed = d.get("speed", {})
    for name, v in d["variants"].items():
        lowo = v.get("lowo", {}).get("mean")
        out.append(
            f"| {name} | {_f(v['test_macro_f1'])} | {_f(v['test_micro_f1'])} | {_f(lowo)} "
            f"| {v['identical_theme_sets']:.1%} | {v['max_score_difference']} | {speed.get(name, '–')} |"
        )
    if speed:
        out += [
            "",
            f"Speed: the encoder alone (tokenising, windows, ONNX int8 with 7-bit weights, pooling) on "
            f"{speed['reports']} reports of two corpus reports each (median {speed['median_tokens']:.0f} tokens), "
            f"median of 3 runs interleaved (`{d.get('speed_command', '')}`).",
        ]
    return out


def setfit_section(d: dict[str, Any]) -> list[str]:
    out = [
        "## Tuning the pretrained encoder: SetFit-style on CPU",
        "",
        "`python evaluation/setfit_cpu.py` — e5-small tuned contrastively on pairs of training reports "
        "(same themes vs no shared theme; 16 pairs of ≤ 128 tokens a step, AdamW 2e-5) with a logistic-regression "
        "head and out-of-fold thresholds, scored like the benchmark's systems; the body is tuned again inside every "
        "leave-one-writer-out fold. No GPU was lent to this task, so the step budget is small.",
        "",
        "| system | test micro-F1 | test macro-F1 | LOWO macro-F1 (mean) | seconds (tune + embed + head) |",
        "|---|---|---|---|---|",
    ]
    for name, r in d.items():
        lowo = r.get("lowo_macro_f1", {}).get("mean") if r.get("lowo_macro_f1") else None
        out.append(
            f"| {name} | {_f(r.get('test_micro_f1'))} | {_f(r.get('test_macro_f1'))} | {_f(lowo)} "
            f"| {r.get('train_seconds', '–')} |"
        )
    return out


def scale_section(d: dict[str, Any]) -> list[str]:
    out = [
        "## Scale: streaming through `meldtekst tag`",
        "",
        f"`python evaluation/scale.py` — {d.get('note', '')}",
        "",
        "| input | reports | seconds | reports/s | peak memory (PSS, MiB) | rows out |",
        "|---|---|---|---|---|---|",
    ]
    for key, r in d.items():
        if key == "note":
            continue
        fmt = key.split()[0]
        out.append(
            f"| {fmt} | {r['reports']:,} | {r['seconds']} | {r['reports_per_second']:,.0f} | {r['peak_pss_mib']} "
            f"| {r['rows_out']:,} |"
        )
    return out


def ablation_section(a: dict[str, Any]) -> list[str]:
    out = [
        "## Ablation of the `fast` model (dev split)",
        "",
        "`python evaluation/ablation.py` — each variant changes the named settings of fast v1 (word 1–2 and "
        "char 2–5 n-grams, no codebook features, C=4), is fitted on train with thresholds from 3-fold "
        "out-of-fold scores on train, and scored on dev; LOWO as above where measured. The dev winner, "
        "confirmed leave-one-writer-out, is the shipped fast v2.",
        "",
        "| variant | dev macro-F1 | dev micro-F1 | LOWO macro-F1 (mean) | data |",
        "|---|---|---|---|---|",
    ]
    for name, r in a.items():
        lowo = r.get("lowo_macro_f1", {}).get("mean") if r.get("lowo_macro_f1") else None
        note = r.get("lowo_macro_f1", {}).get("note", "") if r.get("lowo_macro_f1") else ""
        out.append(
            f"| {name} | {_f(r['dev_macro_f1'])} | {_f(r['dev_micro_f1'])} | {_f(lowo)}"
            f"{' (' + note + ')' if note else ''} | {r.get('data', '')} |"
        )
    return out


def active_learning_section(d: dict[str, Any]) -> list[str]:
    """Issue #10: labels per strategy to reach random sampling's final macro-F1."""
    strategies = list(d["macro_f1_median"])
    out = [
        "## Active learning: which reports to label next",
        "",
        f"`{d['command']}` — {d['date']}, {d['machine']}. Train split as the pool ({d['train_pool']} reports), "
        f"start {d['start']} stratified, +{d['step']} per round by each strategy (gold labels revealed), "
        f"model: {d['config']}; macro-F1 on the {d['test_reports']} test reports, median of seeds {d['seeds']}.",
        "",
        "![active learning curve](results/active_learning.png)",
        "",
        "| labels | " + " | ".join(strategies) + " |",
        "|---|" + "---|" * len(strategies),
    ]
    for i, n in enumerate(d["labels"]):
        out.append(f"| {n} | " + " | ".join(_f(d["macro_f1_median"][k][i]) for k in strategies) + " |")
    target = d["random_final_macro_f1"]
    out += ["", f"Labels needed to reach random's final macro-F1 ({_f(target)} with {d['labels'][-1]} labels):", ""]
    for k in strategies:
        n, share = d["labels_to_reach_random_final"][k], d["share_of_random_labels"][k]
        out.append(f"- `{k}`: {n if n else 'not reached'}" + (f" ({share:.0%} of random's labels)" if n else ""))
    return out


def review_band_section(d: dict[str, Any]) -> list[str]:
    """Issue #10: what `needs_review` flags and how many of the erroneous reports it catches."""
    out = [
        "## Review flag (`needs_review`)",
        "",
        f"`{d['command']}` — {d['date']}, model {d['model']}. A report has an error when its predicted theme "
        f"set differs from gold: {d['dev_error_share']:.0%} of the {d['dev_reports']} dev and "
        f"{d['test_error_share']:.0%} of the {d['test_reports']} test reports. Each measure's cut-off flags at most "
        f"{d['max_flagged_dev']:.0%} of dev; test uses the same cut-off. With that many reports in error, even a "
        f"perfect flag on 25 % of dev catches only {d['best_possible_errors_caught_at_25']:.0%} of them: the cap, "
        "not the measure, limits the catch; precision (flagged reports that have an error) shows the measure's "
        f"worth against the base rate of {d['dev_error_share']:.0%}. `logit_risk` is what `tag` uses from the "
        "next retraining on (`meldtekst.review`); models trained before keep the probability band.",
        "",
        "| measure | dev flagged | dev errors caught | dev precision | test flagged | test errors caught |",
        "|---|---|---|---|---|---|",
    ]
    for m, v in d["measures"].items():
        dv, tv = v["dev"], v["test_same_cutoff"]
        out.append(
            f"| {m} | {dv['flagged_share']:.0%} | {dv['errors_caught_share']:.0%} | {dv['precision']:.0%} | "
            f"{tv['flagged_share']:.0%} | {tv['errors_caught_share']:.0%} |"
        )
    shares = list(next(iter(d["measures"].values()))["dev_errors_caught_at_flagged_share"])
    out += ["", "Dev errors caught when flagging a given share of dev:", ""]
    out += ["| measure | " + " | ".join(f"{float(s):.0%}" for s in shares) + " |", "|---|" + "---|" * len(shares)]
    for m, v in d["measures"].items():
        curve = v["dev_errors_caught_at_flagged_share"]
        out.append(f"| {m} | " + " | ".join(f"{curve[s]:.0%}" for s in shares) + " |")
    return out


def recipes_section(d: dict[str, Any]) -> list[str]:
    recipes = d["recipes"]
    corpus = d["corpus"]
    held = d.get("held_out", "")
    holdout = f" --holdout {held.split(' ')[0]}" if held.endswith("together") else ""
    out = [
        "## Recipes side by side on writers the model never saw (real-world robustness)",
        "",
        f"`python evaluation/recipes.py{holdout}` — {corpus['reports']} reports by {len(corpus['writers'])} writers "
        f"({', '.join(corpus['writers'])}), genres {', '.join(corpus['genres'])}. Held out: "
        f"{d.get('held_out', 'each writer in turn')} ({d.get('scored_reports', corpus['reports'])} reports scored): "
        "the model is fitted on the other writers and tags the held-out raw texts. `old` is fast v3's "
        "recipe (raw training text, min_df 2, stratified out-of-fold thresholds, report-level scores); `new` "
        "de-identifies training text, keeps n-grams of at least 3 reports, adds the generic-statement qualifier, "
        "tunes thresholds on writer-held-out scores and anchors each theme on its best sentence with weight w. "
        "Macro-F1 over themes with ≥ 4 positives in the held-out writer; precision and recall micro over all "
        f"themes; 'longest third' = texts of ≥ {d['longest_third_min_words']} words. Chosen w: "
        f"**{d['chosen_weight']:g}** (best mean macro-F1).",
        "",
        "| recipe | macro-F1, mean over held-out writers | worst writer | precision | recall | "
        "precision, longest third |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in recipes.items():
        out.append(
            f"| {name} | {_f(r['lowo_macro_f1_mean'])} | {_f(r['lowo_macro_f1_worst'])} ({r['worst_writer']}) | "
            f"{_f(r['precision'])} | {_f(r['recall'])} | {_f(r['precision_longest_third'])} |"
        )
    shown = ["old", f"new (w={d['chosen_weight']:g})"]
    for key, label in (("per_writer", "held-out writer"), ("per_genre", "genre")):
        out += ["", f"Per {label} (macro-F1 / precision / recall):", ""]
        out += [f"| {label} | " + " | ".join(shown) + " |", "|---|" + "---|" * len(shown)]
        for k in recipes["old"][key]:
            cells = [" / ".join(_f(recipes[n][key][k][m]) for m in ("macro_f1", "precision", "recall")) for n in shown]
            out.append(f"| {k} | " + " | ".join(cells) + " |")
    return out


def shipped_section(d: dict[str, Any]) -> list[str]:
    out = [
        "## Shipped models v4 against v3 on the same test split",
        "",
        '`python evaluation/shipped_by_genre.py --old "fast v3=DIR" --old "accurate v3=DIR"` (v3 from commit '
        "c71c542). The 301 test reports of the enlarged corpus, none of them fitted on by any of these models; "
        "112 of them are in the round-2 genres, which v3 never saw in training and v4 did (in other reports). "
        "Precision and recall micro over all themes, macro-F1 over themes.",
        "",
        "| model | part | reports | precision | recall | macro-F1 |",
        "|---|---|---|---|---|---|",
    ]
    for name, parts in d["models"].items():
        for part, v in parts.items():
            out.append(
                f"| {name} | {part} | {v['reports']} | {_f(v['precision'])} | {_f(v['recall'])} | {_f(v['macro_f1'])} |"
            )
    return out


def privacy_section(d: dict[str, Any]) -> list[str]:
    out = [
        "## Privacy: what keeping report text out of the vocabulary costs",
        "",
        "`python evaluation/privacy_vocab.py` — the fast settings on the 1,215-report corpus of round 1; test "
        "macro-F1 (fitted on train, raw test text) and leave-one-writer-out macro-F1 (mean, worst writer). "
        f"{d['corpus_identifiers_found']} distinct identifiers (names, places, institutions, numbers; ≥ 4 "
        "characters) that `anonymize` finds in the corpus were looked up in each model's word vocabulary. "
        f"De-identifying the corpus took {d['deidentify_seconds']} s.",
        "",
        "| training text | test macro-F1 | LOWO macro-F1 | worst writer | word terms | char terms | "
        "corpus identifiers in vocabulary |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, v in d["variants"].items():
        out.append(
            f"| {name} | {_f(v['test_macro_f1'])} | {_f(v['lowo_macro_f1']['mean'])} | {_f(v['lowo_worst_writer'])} "
            f"| {v['word_terms']} | {v['char_terms']} | {v['corpus_identifiers_in_vocabulary']} |"
        )
    return out


def deid_section(d: dict[str, Any]) -> list[str]:
    parts = d["parts"]
    base = (d.get("baseline") or {}).get("parts", {})
    names = [p for p in ("dev", "heldout", "heldout2", "all") if p in parts]
    out = [
        "## De-identification recall on a marked test set",
        "",
        "`python evaluation/deid_recall.py` — share of marked spans replaced in full (no letter or digit of "
        f"the span survives) on `{d.get('marked_set', 'data/deid/marked_spans.jsonl')}` (fictitious, "
        f"hand-marked; {parts['all']['passages']} passages), before (the previous anonymize.py) → now, per part "
        "and kind; and the share of ordinary words replaced. Goal: ≥ 0.97 overall, ≥ 0.85 per kind, ≤ 0.02 "
        f"ordinary words. Speed now: {d['speed']['reports_per_cpu_second']} reports per CPU second.",
        "",
        "| kind | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]

    def cell(part: str, kind: str | None) -> str:
        now = parts[part]["overall"] if kind is None else parts[part]["per_kind"].get(kind)
        if now is None:
            return "–"
        old = base.get(part, {}).get("overall") if kind is None else base.get(part, {}).get("per_kind", {}).get(kind)
        before = f"{_f(old['recall_full'])} → " if old else ""
        return f"{before}{_f(now['recall_full'])} (n={now['n']})"

    for kind in sorted(parts["all"]["per_kind"]):
        out.append(f"| {kind} | " + " | ".join(cell(p, kind) for p in names) + " |")
    out.append("| **overall** | " + " | ".join(cell(p, None) for p in names) + " |")
    out.append(
        "| ordinary words replaced | " + " | ".join(_f(parts[p]["over_replacement"]["rate"]) for p in names) + " |"
    )
    return out


def generic_section(title: str, data: dict[str, Any], note: str) -> list[str]:
    return [f"## {title}", "", note, "", "```json", json.dumps(data, indent=2), "```"]


def main() -> None:
    lines = [
        "# meldtekst: measured results",
        "",
        "Generated by `python evaluation/make_results.py` from `evaluation/results/*.json`; each section "
        "names the command that produced its numbers. Timings on shared 2-core machines are noisy: they "
        "are medians, and comparisons are made side by side within one run.",
        "",
    ]
    rc = _load("recipes.json")
    if rc:
        lines += [*recipes_section(rc), ""]
    sg = _load("shipped_by_genre.json")
    if sg:
        lines += [*shipped_section(sg), ""]
    pv = _load("privacy_vocab.json")
    if pv:
        lines += [*privacy_section(pv), ""]
    dr = _load("deid_recall.json")
    if dr:
        lines += [*deid_section(dr), ""]
    ppi = RESULTS / "ppi_counts.md"
    if ppi.is_file():
        # the figure sits next to the .md in results/; RESULTS.md is one folder up
        lines += [ppi.read_text(encoding="utf-8").strip().replace("](ppi_counts.png)", "](results/ppi_counts.png)"), ""]
    b = _load("benchmark.json")
    if b:
        lines += [*benchmark_section(b), ""]
    sf = _load("setfit.json")
    if sf:
        lines += [*setfit_section(sf), ""]
    q = _load("quantization.json")
    if q:
        lines += [*quantization_section(q), ""]
    ev = _load("encoder_variants.json")
    if ev:
        lines += [*encoder_variants_section(ev), ""]
    sc = _load("scale.json")
    if sc:
        lines += [*scale_section(sc), ""]
    a = _load("ablation.json")
    if a:
        lines += [*ablation_section(a), ""]
    al = _load("active_learning.json")
    if al:
        lines += [*active_learning_section(al), ""]
    rb = _load("review_band.json")
    if rb:
        lines += [*review_band_section(rb), ""]
    for name, title, note in (
        ("encoder_speed.json", "Frozen e5-small: fp32 vs int8", "`python evaluation/encoder_speed.py`"),
        ("transformer_speed.json", "Transformer path: CPU throughput", "`python evaluation/transformer_speed.py`"),
        ("faithfulness.json", "Faithfulness of explanations (ERASER-style)", "`python evaluation/faithfulness.py`"),
        ("spark.json", "Spark versus `meldtekst tag`", "`python evaluation/spark_bench.py`"),
    ):
        d = _load(name)
        if d:
            lines += [*generic_section(title, d, note), ""]
    (HERE / "RESULTS.md").write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
