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
            f"`accurate`, same command on {ta['reports']:,} reports, one run: **{ta['reports_per_second']:.0f} "
            f"reports/s** ({ta['tag_seconds_median']} s, including the encoder's start-up).",
        ]
    return out


def ablation_section(a: dict[str, Any]) -> list[str]:
    out = [
        "## Ablation of the `fast` model (dev split)",
        "",
        "`python evaluation/ablation.py` — each variant fitted on train, thresholds from 3-fold "
        "out-of-fold scores on train, scored on dev; LOWO as above where measured.",
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
    b = _load("benchmark.json")
    if b:
        lines += [*benchmark_section(b), ""]
    a = _load("ablation.json")
    if a:
        lines += [*ablation_section(a), ""]
    for name, title, note in (
        ("encoder_speed.json", "Frozen e5-small: fp32 vs int8", "`python evaluation/encoder_speed.py`"),
        ("transformer_speed.json", "Transformer path: CPU throughput", "`python evaluation/transformer_speed.py`"),
        ("scale.json", "Scale: streaming through `meldtekst tag`", "`python evaluation/scale.py`"),
        ("faithfulness.json", "Faithfulness of explanations (ERASER-style)", "`python evaluation/faithfulness.py`"),
        ("spark.json", "Spark versus `meldtekst tag`", "`python evaluation/spark_bench.py`"),
    ):
        d = _load(name)
        if d:
            lines += [*generic_section(title, d, note), ""]
    (HERE / "RESULTS.md").write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
