"""Copy the benchmark's leave-one-writer-out macro-F1 and measured throughput into the shipped
models' meta.json (`benchmark` key), so `meldtekst models` can show them, and write
models/DEFAULT: `accurate` only when it wins leave-one-writer-out by >= 0.02 macro-F1.

    python evaluation/stamp_models.py
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARGIN = 0.02


def main() -> None:
    bench = json.loads((ROOT / "evaluation" / "results" / "benchmark.json").read_text())
    systems = bench["systems"]
    for name in ("fast", "accurate"):
        meta_path = ROOT / "models" / name / "meta.json"
        if name not in systems or not meta_path.is_file():
            continue
        meta = json.loads(meta_path.read_text())
        s = systems[name]
        meta["benchmark"] = {
            "date": bench["date"],
            "lowo_macro_f1": s.get("lowo_macro_f1", {}).get("mean"),
            "test_macro_f1_benchmark": s["test_macro_f1"],
            "reports_per_second": (bench.get(f"throughput_{name}") or {}).get("reports_per_second"),
        }
        meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    fast = systems.get("fast", {}).get("lowo_macro_f1", {}).get("mean")
    acc = systems.get("accurate", {}).get("lowo_macro_f1", {}).get("mean")
    default = "accurate" if fast is not None and acc is not None and acc >= fast + MARGIN else "fast"
    (ROOT / "models" / "DEFAULT").write_text(default + "\n")
    print(f"fast LOWO {fast}, accurate LOWO {acc} -> default {default}")


if __name__ == "__main__":
    main()
