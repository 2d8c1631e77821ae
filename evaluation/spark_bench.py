"""What does Spark cost or gain on one machine? `meldtekst spark-tag --master local[2]` against
`meldtekst tag --workers 2` on the same generated reports and the same 2 cores, plus Spark's
start-up alone, and (``--udf-compare``) `tag_dataframe`'s mapInPandas against
``mlflow.pyfunc.spark_udf`` on the same registered model.

    python evaluation/spark_bench.py [--rows 100000] [--runs 3] [--model fast] [--udf-compare 20000]

Reports are corpus texts cycled with a running id (as in scale.py), written as one Parquet
file; both commands read it and write Parquet. Times are wall-clock seconds of the whole
command (start-up and model loading included), medians over ``--runs``; on a shared machine
the per-run ratio (both commands back to back) is the steadier figure. Both commands are
pinned to the same cores. Writes evaluation/results/spark.json (keys are merged, so a
--udf-compare-only run keeps the main figures).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "evaluation" / "results" / "spark.json"


def make_input(path: Path, n: int) -> None:
    rows = [json.loads(line) for line in (ROOT / "data" / "meldingen.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r.get("tekst")]
    pd.DataFrame(
        {
            "id": [f"S{i:07d}" for i in range(n)],
            "datum": [rows[i % len(rows)]["datum"] for i in range(n)],
            "rol": [rows[i % len(rows)]["rol"] for i in range(n)],
            "tekst": [rows[i % len(rows)]["tekst"] for i in range(n)],
        }
    ).to_parquet(path, index=False)


def _pin(cores: list[int]) -> Any:
    """A preexec_fn pinning the child (and its JVM and Python workers) to ``cores``."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    return lambda: os.sched_setaffinity(0, cores)


def timed(cmd: list[str], cores: list[int]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, preexec_fn=_pin(cores), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return seconds


STARTUP = """
import time
from meldtekst.interop.spark import spark_session
t = time.perf_counter()
s = spark_session("local[{n}]", conf={{"spark.ui.enabled": "false"}}, progress=False)
s.range(1).count()
print(time.perf_counter() - t)
s.stop()
"""


def spark_startup(cores: list[int]) -> float:
    proc = subprocess.run(
        [sys.executable, "-c", STARTUP.format(n=len(cores))], preexec_fn=_pin(cores), capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"Spark did not start: {proc.stderr.strip()[-500:]}")
    return float(proc.stdout.strip().splitlines()[-1])


def main_bench(rows: int, runs: int, model: str, cores: list[int], tmp: Path) -> dict[str, Any]:
    src = tmp / "reports.parquet"
    make_input(src, rows)
    cli = [sys.executable, "-m", "meldtekst"]
    tag_s, spark_s, start_s = [], [], []
    for run in range(runs):
        dst = tmp / f"tag-{run}.parquet"
        tag_s.append(timed([*cli, "tag", str(src), "-o", str(dst), "--model", model, "--workers", "2", "-q"], cores))
        out = tmp / f"spark-{run}"
        n = len(cores)
        spark_s.append(
            timed(
                [*cli, "spark-tag", str(src), "-o", str(out), "--model", model, "--master", f"local[{n}]", "-q"], cores
            )
        )
        start_s.append(spark_startup(cores))
        same = len(pd.read_parquet(out, columns=["id"])) == len(pd.read_parquet(dst, columns=["id"])) == rows
        if not same:
            raise SystemExit("row counts differ between spark-tag and tag")
        shutil.rmtree(out)
        dst.unlink()
        print(f"run {run + 1}: tag {tag_s[-1]:.1f} s, spark-tag {spark_s[-1]:.1f} s, start {start_s[-1]:.1f} s")
    tag_med, spark_med = statistics.median(tag_s), statistics.median(spark_s)
    paired = [b / a for a, b in zip(tag_s, spark_s, strict=True)]  # same run, same load on a shared machine
    return {
        "rows": rows,
        "runs": runs,
        "model": model,
        "tag_seconds": [round(s, 1) for s in tag_s],
        "spark_tag_seconds": [round(s, 1) for s in spark_s],
        "spark_startup_seconds": [round(s, 1) for s in start_s],
        "tag_median_s": round(tag_med, 1),
        "spark_tag_median_s": round(spark_med, 1),
        "spark_startup_median_s": round(statistics.median(start_s), 1),
        "spark_over_tag": round(spark_med / tag_med, 2),
        "spark_over_tag_per_run": [round(r, 2) for r in paired],
        "spark_over_tag_median_of_runs": round(statistics.median(paired), 2),
        "tag_reports_per_s": round(rows / tag_med, 1),
        "spark_tag_reports_per_s": round(rows / spark_med, 1),
    }


def _imports_only(batches: Any) -> Any:
    """Import what both routes need in every Python worker, so neither cold run pays for it alone."""
    import mlflow.pyfunc  # noqa: F401
    import skops.io  # noqa: F401

    import meldtekst.interop.spark  # noqa: F401

    yield from batches


def udf_compare(rows: int, model: str, cores: list[int], tmp: Path) -> dict[str, Any]:
    """mapInPandas (tag_dataframe) against mlflow.pyfunc.spark_udf, same session, same registered model.

    Each is run twice: the first (cold) run includes loading the model in the Python workers
    (which have imported meldtekst, skops and MLflow in a warm-up job before either).
    """
    import mlflow
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    from meldtekst.interop.spark import output_fields, spark_session, tag_dataframe
    from meldtekst.models.store import load_model
    from meldtekst.tracking import log_pyfunc, set_alias

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cores)
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    loaded = load_model(model)
    experiment = mlflow.create_experiment("spark-bench", artifact_location=str(tmp / "artifacts"))
    with mlflow.start_run(experiment_id=experiment):
        info = log_pyfunc(loaded.path)
    version = mlflow.register_model(info.model_uri, "spark-bench").version
    set_alias("spark-bench", "bench", str(version))
    registered = "models:/spark-bench@bench"

    src = tmp / "udf.parquet"
    make_input(src, rows)
    spark = spark_session(f"local[{len(cores)}]", conf={"spark.ui.enabled": "false"}, progress=False)
    df = spark.read.parquet(str(src)).repartition(len(cores)).cache()
    df.count()
    schema = StructType(output_fields(loaded))
    pyfunc = mlflow.pyfunc.spark_udf(spark, registered, result_type=schema, env_manager="local")
    df.mapInPandas(_imports_only, df.schema).write.format("noop").mode("overwrite").save()  # warm the workers

    def map_in_pandas() -> None:
        tag_dataframe(df, registered).write.format("noop").mode("overwrite").save()

    def spark_udf() -> None:
        out = df.withColumn("_tagged", pyfunc(F.struct(F.col("tekst")))).select(*df.columns, "_tagged.*")
        out.write.format("noop").mode("overwrite").save()

    times: dict[str, list[float]] = {"map_in_pandas": [], "spark_udf": []}
    for _ in range(2):
        for name, fn in (("map_in_pandas", map_in_pandas), ("spark_udf", spark_udf)):
            start = time.perf_counter()
            fn()
            times[name].append(round(time.perf_counter() - start, 1))
            print(f"{name}: {times[name][-1]:.1f} s")
    spark.stop()
    return {
        "rows": rows,
        "model": f"{model} via {registered}",
        "cold_then_warm_seconds": times,
        "warm_spark_udf_over_map_in_pandas": round(times["spark_udf"][1] / times["map_in_pandas"][1], 2),
    }


def machine() -> dict[str, Any]:
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    return {
        "date": datetime.now(UTC).date().isoformat(),
        "python": platform.python_version(),
        "pyspark": metadata.version("pyspark"),
        "java": java[0] if java else "",
        "cpu_count": os.cpu_count(),
        "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3, help="0 skips the tag / spark-tag comparison")
    ap.add_argument("--model", default="fast")
    ap.add_argument("--cores", default="0,1", help="CPU cores both commands are pinned to")
    ap.add_argument("--udf-compare", type=int, default=0, metavar="ROWS", help="also compare with spark_udf")
    ap.add_argument("--note", default="", help="stored with the figures, e.g. what else ran on the machine")
    args = ap.parse_args()
    cores = [int(c) for c in args.cores.split(",")]
    results = json.loads(OUT.read_text()) if OUT.is_file() else {}
    results["machine"] = machine()
    if args.note:
        results["machine"]["note"] = args.note
    with tempfile.TemporaryDirectory() as tmp:
        if args.runs:
            results["tag_vs_spark_tag"] = main_bench(args.rows, args.runs, args.model, cores, Path(tmp))
            results["machine_main"] = results["machine"]
        if args.udf_compare:
            results["map_in_pandas_vs_spark_udf"] = udf_compare(args.udf_compare, args.model, cores, Path(tmp))
            results["machine_udf"] = results["machine"]
    del results["machine"]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
