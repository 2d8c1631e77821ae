"""Does `meldtekst tag` stream? Time, throughput and peak memory (PSS of the whole process tree) for
10k, 100k and 1M generated reports through CSV and JSONL.

    python evaluation/scale.py [--sizes 10000,100000,1000000] [--formats csv,jsonl]

Reports are corpus texts cycled with a running id, so the work per report matches real use.
Writes evaluation/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from meldtekst.io import read_all

ROOT = Path(__file__).resolve().parents[1]


def make_input(path: Path, n: int, fmt: str) -> None:
    rows = read_all(ROOT / "data" / "meldingen.jsonl")[["datum", "rol", "tekst"]].to_dict("records")
    with path.open("w", encoding="utf-8", newline="") as fh:
        if fmt == "csv":
            import csv

            w = csv.writer(fh)
            w.writerow(["id", "datum", "rol", "tekst"])
            for i in range(n):
                r = rows[i % len(rows)]
                w.writerow([f"S{i:07d}", r["datum"], r["rol"], r["tekst"]])
        else:
            for i in range(n):
                r = rows[i % len(rows)]
                fh.write(json.dumps({"id": f"S{i:07d}", **r}, ensure_ascii=False) + "\n")


def run_tag(src: Path, dst: Path) -> dict[str, float]:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "meldtekst", "tag", str(src), "-o", str(dst), "-q"])
    parent = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            procs = [parent, *parent.children(recursive=True)]
            # PSS splits pages shared by the forked workers fairly; summing RSS would count them twice
            peak = max(peak, sum(p.memory_full_info().pss for p in procs if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.2)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"tag failed with exit code {proc.returncode}")
    return {"seconds": round(seconds, 1), "peak_pss_mib": round(peak / 2**20, 1)}


def count_lines(path: Path, fmt: str) -> int:
    if fmt == "jsonl":
        with path.open("rb") as fh:
            return sum(1 for _ in fh)
    import pandas as pd

    return sum(len(c) for c in pd.read_csv(path, chunksize=100_000, usecols=["id"]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--formats", default="csv,jsonl")
    args = ap.parse_args()
    out_file = ROOT / "evaluation" / "results" / "scale.json"
    results = json.loads(out_file.read_text()) if out_file.is_file() else {}
    for fmt in args.formats.split(","):
        for n in map(int, args.sizes.split(",")):
            with tempfile.TemporaryDirectory() as tmp:
                src, dst = Path(tmp) / f"in.{fmt}", Path(tmp) / f"out.{fmt}"
                make_input(src, n, fmt)
                r = run_tag(src, dst)
                rows_out = count_lines(dst, fmt)
                r.update({"reports": n, "rows_out": rows_out, "reports_per_second": round(n / r["seconds"], 1)})
                assert rows_out == n, f"{fmt} {n}: {rows_out} rows out"
            results[f"{fmt} {n}"] = r
            print(fmt, n, r, flush=True)
            out_file.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
