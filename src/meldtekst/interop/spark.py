"""Tagging on Apache Spark, for more reports than one machine tags in time.

`tag_dataframe` adds to a Spark DataFrame exactly the columns that `meldtekst tag` writes
for Parquet (`tagging.result_columns(result, "table")`), computed by the project's own
`tag_texts` inside ``mapInPandas``: each Python worker process loads the model once (cached
by model URI) and tags Arrow batches of rows; every input column passes through unchanged.

Why ``mapInPandas`` and not ``mlflow.pyfunc.spark_udf`` with an explicit result schema:
it was faster where measured (evaluation/spark_bench.py --udf-compare, results in
evaluation/results/spark.json: 20,000 reports on `local[2]`, the same registered model,
21 s against 27 s with the model still to load in the workers and 21 s against 32 s once
loaded, on a shared 2-core machine). In-process the
pyfunc's ``predict`` costs the same as `tag_texts`, so the difference is spark_udf's wrapper:
its result is one struct column that is converted per batch and then taken apart beside the
input, where ``mapInPandas`` returns finished rows. It also takes every model spec that
`load_model` does (a directory, a built-in name, ``models:/NAME@ALIAS``), where ``spark_udf``
takes only models logged to MLflow.

`spark_tag` is the file-to-file job behind `meldtekst spark-tag`: Spark's own Parquet and
CSV readers and writers, no pandas round trip of the whole file, and Spark's logging at
ERROR without stack traces, so the console shows neither Java traces nor report text.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from meldtekst.errors import InputError, MeldtekstError
from meldtekst.models.store import ThemeModelDir, load_model
from meldtekst.tagging import OUTPUT_COLUMNS, result_columns, tag_texts
from meldtekst.tracking import SYNTHETIC_EXAMPLE
from meldtekst.validate import require_column

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructField

INSTALL_HINT = "Spark support needs pyspark: pip install -e '.[spark]'"
ORDER_COLUMN = "__meldtekst_order"
# Root at ERROR, no stack traces: what users see is one line from meldtekst, and nothing a
# task was working on (exception texts can quote data) reaches the console. Failed tasks are
# reported once, by meldtekst, from the Python exception, so the executor's and the
# scheduler's own "task failed" lines are off. The gateway's logger at the root's level keeps
# Spark from announcing (and setting) a shell log level of its own.
LOG4J2_ERROR = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
appender.console.layout.alwaysWriteExceptions = false
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
logger.executor.name = org.apache.spark.executor.Executor
logger.executor.level = off
logger.tasks.name = org.apache.spark.scheduler.TaskSetManager
logger.tasks.level = off
"""

_LOG_LEVELS = ("ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL", "FATAL", "OFF")

# ----------------------------------------------------------------------------- session


def _require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise MeldtekstError(INSTALL_HINT) from None


def _log4j_file() -> Path:
    """LOG4J2_ERROR as a file the JVM can read at start (rewritten only when it differs)."""
    from platformdirs import user_cache_dir

    path = Path(user_cache_dir("meldtekst")) / "spark-log4j2.properties"
    if not path.is_file() or path.read_text(encoding="utf-8") != LOG4J2_ERROR:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(LOG4J2_ERROR, encoding="utf-8")
    return path


def spark_session(
    master: str | None = None,
    *,
    conf: dict[str, str] | None = None,
    log_level: str = "ERROR",
    progress: bool = True,
) -> SparkSession:
    """The active SparkSession, or a new one that logs at ``log_level`` (ERROR: no stack traces).

    Without ``master`` Spark decides: spark-submit's ``--master``, else ``local[*]``.
    Settings only apply to a session started here; under spark-submit the JVM already runs,
    so only the log level is set.
    """
    _require_pyspark()
    from pyspark.sql import SparkSession

    # pandas 3 works for what meldtekst does here; pyspark warns about it on every DataFrame call
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    level = log_level.upper()
    if level not in _LOG_LEVELS:
        raise InputError(f"unknown Spark log level '{log_level}'; use one of {', '.join(_LOG_LEVELS)}")
    active = SparkSession.getActiveSession()
    if active is not None:
        active.sparkContext.setLogLevel(level)
        return active
    launching = "PYSPARK_GATEWAY_PORT" not in os.environ  # not under spark-submit: pyspark starts a JVM
    if launching and not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise MeldtekstError(
            "Spark needs Java 17 or newer: install it (Debian: apt-get install default-jre-headless) or set JAVA_HOME"
        )
    builder = SparkSession.builder.appName("meldtekst")
    if master:
        builder = builder.master(master)
    settings = session_settings(master, conf, log_level=level, progress=progress)
    python = settings.get(PYSPARK_PYTHON_CONF)
    if python and is_local_master(master, conf):
        # pyspark starts local workers with $PYSPARK_PYTHON (default: the first python3 on PATH)
        os.environ["PYSPARK_PYTHON"] = python
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:
        raise spark_error(exc, what="Spark could not start") from exc
    session.sparkContext.setLogLevel(level)
    return session


PYSPARK_PYTHON_CONF = "spark.pyspark.python"


def is_local_master(master: str | None, conf: dict[str, str] | None = None) -> bool:
    """Whether Spark runs in this machine's processes: ``local``, ``local[N]``, ``local[*]``, or no
    master at all when pyspark starts the JVM itself (its default is ``local[*]``)."""
    chosen = master or (conf or {}).get("spark.master")
    if chosen is None:
        return "PYSPARK_GATEWAY_PORT" not in os.environ
    return chosen.strip().lower().startswith("local")


def session_settings(
    master: str | None, conf: dict[str, str] | None = None, *, log_level: str = "ERROR", progress: bool = True
) -> dict[str, str]:
    """The Spark settings `spark_session` starts a session with; ``conf`` (the user's) wins.

    For a local master the Python workers run this interpreter (``sys.executable``) unless
    ``spark.pyspark.python`` or $PYSPARK_PYTHON says otherwise: Spark would start the first
    ``python3`` on PATH, which lacks meldtekst when the ``meldtekst`` script runs from a
    virtualenv that is not activated. Clusters need their own setting (the executors' path).
    """
    settings = {
        "spark.ui.showConsoleProgress": "true" if progress else "false",
        "spark.executorEnv.PYTHONWARNINGS": "ignore::FutureWarning",
    }
    if log_level.upper() == "ERROR":
        settings["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={_log4j_file().as_uri()}"
    if is_local_master(master, conf):
        python = os.environ.get("PYSPARK_PYTHON") or sys.executable
        if python:
            settings[PYSPARK_PYTHON_CONF] = python
    settings.update(conf or {})
    return settings


# ----------------------------------------------------------------------------- tagging

_MODELS: dict[str, ThemeModelDir] = {}


def _resolve(model_uri: str | Path | None) -> tuple[str, str | None]:
    """A spec that means the same on every executor (directories as absolute paths), and for
    registry URIs the driver's MLflow tracking URI, which executors then use too."""
    from meldtekst.models.store import default_model_name

    spec = str(model_uri) if model_uri is not None else default_model_name()
    if spec.startswith(("models:/", "runs:/")):
        from meldtekst.tracking import tracking_uri

        return spec, tracking_uri()
    if "://" not in spec and Path(spec).is_dir():
        return str(Path(spec).resolve()), None
    return spec, None


def cached_model(model_uri: str, registry_uri: str | None = None) -> ThemeModelDir:
    """Load ``model_uri`` once per process; executors use the driver's MLflow tracking URI."""
    model = _MODELS.get(model_uri)
    if model is None:
        if registry_uri:
            os.environ["MLFLOW_TRACKING_URI"] = registry_uri
        model = _MODELS[model_uri] = load_model(model_uri)
    return model


def _tag_batches(
    batches: Iterator[pd.DataFrame],
    *,
    model_uri: str,
    registry_uri: str | None,
    text_column: str,
    kwargs: dict[str, Any],
) -> Iterator[pd.DataFrame]:
    """Runs on the executors: each Arrow batch through `tag_texts`, input columns first."""
    for batch in batches:
        model = cached_model(model_uri, registry_uri)  # only once a partition has rows
        result = tag_texts(model, batch[text_column].tolist(), **kwargs)
        added = pd.DataFrame(result_columns(result, "table"), index=batch.index)
        yield pd.concat([batch, added], axis=1)


def _spark_type(values: list[Any]) -> Any:
    from pyspark.sql.types import DoubleType, LongType, StringType

    value = values[0]
    if isinstance(value, bool | int):
        return LongType()
    if isinstance(value, float):
        return DoubleType()
    return StringType()


def output_fields(model: ThemeModelDir, **kwargs: Any) -> list[StructField]:
    """The added columns as Spark fields, named, typed and ordered as `result_columns(..., "table")`
    makes them, learnt from tagging a synthetic report on the driver."""
    from pyspark.sql.types import StructField

    probe = result_columns(tag_texts(model, [SYNTHETIC_EXAMPLE], **kwargs), "table")
    return [StructField(name, _spark_type(values), nullable=True) for name, values in probe.items()]


def tag_dataframe(
    df: DataFrame,
    model_uri: str | Path | None,
    text_column: str = "tekst",
    *,
    threshold_scale: float = 1.0,
    with_evidence: bool = True,
    source: str = "DataFrame",
) -> DataFrame:
    """``df`` with every column unchanged plus the theme columns of `meldtekst tag`'s Parquet output.

    ``model_uri`` is anything `load_model` takes; executors must be able to reach it (a
    shared path or the MLflow registry). The model is loaded here first, so a wrong URI
    or a missing column fails at once, before any task runs. Null or empty texts give
    rows with no themes. Rows keep their order within each partition.
    """
    _require_pyspark()
    if threshold_scale <= 0:
        raise InputError("--threshold-scale must be > 0")
    spec, registry_uri = _resolve(model_uri)
    model = cached_model(spec, registry_uri)
    columns = list(df.columns)
    tcol = require_column(columns, text_column, source, what="text")
    clash = [c for c in columns if c in OUTPUT_COLUMNS or c in model.theme_ids or c.startswith("score_")]
    if clash:
        raise InputError(f"input already has output column(s) {clash[:3]}; tag the original data instead", path=source)
    kwargs = {"threshold_scale": threshold_scale, "with_evidence": with_evidence}
    from pyspark.sql.types import StructType

    schema = StructType([*df.schema.fields, *output_fields(model, **kwargs)])
    fn = functools.partial(_tag_batches, model_uri=spec, registry_uri=registry_uri, text_column=tcol, kwargs=kwargs)
    return df.mapInPandas(fn, schema)


# ----------------------------------------------------------------------------- errors


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0].strip() if text else ""


def spark_error(exc: BaseException, *, what: str = "Spark job failed", path: str | None = None) -> MeldtekstError:
    """One line for a Spark, Py4J or executor-side failure (the traceback stays on ``__cause__``)."""
    if isinstance(exc, MeldtekstError):
        return exc
    condition = getattr(exc, "getCondition", lambda: None)()
    if condition == "PATH_NOT_FOUND":
        return InputError("does not exist", path=path)
    if condition == "PATH_ALREADY_EXISTS":
        return InputError("output already exists; remove it or pass --overwrite", path=path)
    if type(exc).__name__ == "PythonException":
        # the worker's traceback: its last line is the exception; meldtekst errors are meant for people
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        last = lines[-1] if lines else "Python worker failed"
        for prefix in ("meldtekst.errors.InputError: ", "meldtekst.errors.ModelError: ", "meldtekst.errors."):
            if last.startswith(prefix):
                return MeldtekstError(last.removeprefix(prefix))
        return MeldtekstError(f"{what}: {last[:300]}")
    java = getattr(exc, "java_exception", None)
    if java is not None:
        return MeldtekstError(f"{what}: {_first_line(str(java.toString()))}")
    return MeldtekstError(f"{what}: {_first_line(str(exc)) or type(exc).__name__}")


# ----------------------------------------------------------------------------- files


@dataclass
class SparkTagSummary:
    input: str
    output: str
    model: str
    rows_in: int = 0
    rows_out: int = 0
    rows_with_theme: int = 0
    partitions: int = 0
    start_seconds: float = 0.0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_SPARK_ENCODINGS = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "cp1252": "windows-1252"}


def _is_local(path: str) -> bool:
    return "://" not in path


def _data_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(("_", ".")))


def input_format(path: str, fmt: str | None = None) -> str:
    """csv or parquet: as given, else from the name, else from the files in a local folder."""
    if fmt:
        if fmt.lower() not in ("csv", "parquet"):
            raise InputError(f"unknown --format '{fmt}'; use csv or parquet")
        return fmt.lower()
    suffix = Path(path.rstrip("/")).suffix.lower()
    if suffix in _CSV_SUFFIXES:
        return "csv"
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    if _is_local(path) and Path(path).is_dir():
        suffixes = {p.suffix.lower() for p in _data_files(Path(path))}
        if suffixes & set(_PARQUET_SUFFIXES):
            return "parquet"
        if suffixes & set(_CSV_SUFFIXES):
            return "csv"
    raise InputError("cannot tell whether this is CSV or Parquet; pass --format csv|parquet", path=path)


def _csv_options(path: str, delimiter: str | None) -> dict[str, str]:
    """Spark CSV options that read what `meldtekst tag` reads: header, quoted multi-line texts,
    all columns as text; delimiter and encoding sniffed from a local file as `meldtekst tag` does."""
    encoding, sniffed = "UTF-8", ","
    if _is_local(path):
        from meldtekst.io import sniff_csv

        files = [p for p in _data_files(Path(path)) if p.stat().st_size > 0]
        if files:
            enc, sniffed = sniff_csv(files[0])
            encoding = _SPARK_ENCODINGS.get(enc, "UTF-8")
    return {
        "header": "true",
        "sep": delimiter or sniffed,
        "encoding": encoding,
        "multiLine": "true",
        "quote": '"',
        "escape": '"',
    }


def _check_paths(input_path: str, output_path: str, overwrite: bool) -> None:
    if _is_local(input_path):
        src = Path(input_path)
        if not src.exists():
            raise InputError("does not exist", path=src)
        if not os.access(src, os.R_OK):
            raise InputError("is not readable (permission denied)", path=src)
    if _is_local(output_path):
        dst = Path(output_path)
        if _is_local(input_path) and dst.resolve() == Path(input_path).resolve():
            raise InputError("output must not be the input", path=dst)
        if dst.exists() and not overwrite:
            raise InputError("output already exists; remove it or pass --overwrite", path=dst)
        if not dst.parent.exists():
            raise InputError("output folder does not exist", path=dst.parent)


@contextmanager
def _session(master: str | None, conf: dict[str, str] | None, log_level: str, progress: bool) -> Iterator[Any]:
    """A session for one job; stopped afterwards only if this job started it."""
    from pyspark.sql import SparkSession

    existing = SparkSession.getActiveSession()
    session = spark_session(master, conf=conf, log_level=log_level, progress=progress)
    try:
        yield session
    finally:
        if existing is None:
            session.stop()


def spark_tag(
    input_path: str | Path,
    output_path: str | Path,
    model_uri: str | None = None,
    *,
    master: str | None = None,
    text_column: str = "tekst",
    partitions: int | None = None,
    input_fmt: str | None = None,
    delimiter: str | None = None,
    threshold_scale: float = 1.0,
    with_evidence: bool = True,
    overwrite: bool = False,
    conf: dict[str, str] | None = None,
    log_level: str = "ERROR",
    progress: bool = True,
) -> SparkTagSummary:
    """Tag a Parquet or CSV file or folder into a Parquet folder (or CSV if OUTPUT ends in .csv).

    Cheap checks (paths, format, model) run before Spark starts. Without ``partitions``
    the input is spread over at least Spark's default parallelism (a single CSV file is one
    partition otherwise), by row position, so a single input file comes out in order in the
    part files; for a folder of files recover the order by id. Rows are counted on the way
    in and on the way out.
    """
    _require_pyspark()
    src, dst = str(input_path), str(output_path)
    _check_paths(src, dst, overwrite)
    fmt = input_format(src, input_fmt)
    out_fmt = "csv" if Path(dst.rstrip("/")).suffix.lower() in _CSV_SUFFIXES else "parquet"
    if partitions is not None and partitions < 1:
        raise InputError("--partitions must be >= 1")
    if threshold_scale <= 0:
        raise InputError("--threshold-scale must be > 0")
    spec, registry_uri = _resolve(model_uri)
    model = cached_model(spec, registry_uri)  # a wrong model fails before Spark starts
    job = _Job(
        src=src,
        dst=dst,
        spec=spec,
        fmt=fmt,
        out_fmt=out_fmt,
        csv_opts=_csv_options(src, delimiter) if fmt == "csv" else {},
        partitions=partitions,
        text_column=text_column,
        overwrite=overwrite,
        kwargs={"threshold_scale": threshold_scale, "with_evidence": with_evidence},
    )
    summary = SparkTagSummary(input=src, output=dst, model=f"{model.name} {model.version}")
    start = time.perf_counter()
    with _session(master, conf, log_level, progress) as spark:
        summary.start_seconds = time.perf_counter() - start
        try:
            _run_job(spark, job, summary)
        except MeldtekstError:
            raise
        except Exception as exc:
            raise spark_error(exc, path=src) from exc
    summary.seconds = time.perf_counter() - start
    if summary.rows_out != summary.rows_in:
        raise MeldtekstError(f"{dst}: {summary.rows_out} rows written but {summary.rows_in} read; do not use it")
    return summary


@dataclass
class _Job:
    src: str
    dst: str
    spec: str
    fmt: str
    out_fmt: str
    csv_opts: dict[str, str]
    partitions: int | None
    text_column: str
    overwrite: bool
    kwargs: dict[str, Any]


def _run_job(spark: SparkSession, job: _Job, summary: SparkTagSummary) -> None:
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    if job.fmt == "csv":  # every column as text and empty fields as "", as `meldtekst tag` reads CSV
        df = spark.read.options(**job.csv_opts).csv(job.src).na.fill("")
    else:
        df = spark.read.parquet(job.src)
    require_column(list(df.columns), job.text_column, job.src, what="text")
    current = df.rdd.getNumPartitions()
    target = job.partitions or max(current, spark.sparkContext.defaultParallelism)
    ordered = target != current
    spread = df
    if ordered:
        spread = df.withColumn(ORDER_COLUMN, F.monotonically_increasing_id())
        spread = spread.repartitionByRange(target, ORDER_COLUMN)
    summary.partitions = target
    tagged = tag_dataframe(spread, job.spec, job.text_column, source=job.src, **job.kwargs)  # wrong column: here
    summary.rows_in = df.count()
    if ordered:
        tagged = tagged.drop(ORDER_COLUMN)
    seen = Observation("meldtekst")
    tagged = tagged.observe(
        seen,
        F.count(F.lit(1)).alias("rows"),
        F.coalesce(F.sum(F.when(F.length(F.col("themes")) > 0, 1).otherwise(0)), F.lit(0)).alias("with_theme"),
    )
    writer = tagged.write.mode("overwrite" if job.overwrite else "errorifexists")
    if job.out_fmt == "csv":
        writer.options(
            header="true",
            sep=job.csv_opts.get("sep", ","),
            quote='"',
            escape='"',
            encoding="UTF-8",
            emptyValue="",
            ignoreLeadingWhiteSpace="false",
            ignoreTrailingWhiteSpace="false",
        ).csv(job.dst)
    else:
        writer.parquet(job.dst)
    metrics = seen.get
    summary.rows_out = int(metrics["rows"])
    summary.rows_with_theme = int(metrics["with_theme"])
