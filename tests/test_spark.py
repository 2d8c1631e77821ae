"""`tag_dataframe` and `meldtekst spark-tag` on a real local Spark (``local[2]``), against
`meldtekst tag` on the same input and model: same rows, ids, themes and scores.

One SparkSession serves the module; its JVM writes to a log file, so the privacy check
reads what Spark logged at the default level. The transformer path is not run here:
tests/test_transformer.py builds its tiny model in module fixtures, not a reusable builder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("pyspark")
if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
    pytest.skip("Spark needs Java 17+ (CI installs default-jre-headless)", allow_module_level=True)

from meldtekst.cli import app
from meldtekst.errors import InputError, ModelError
from meldtekst.interop.spark import session_settings, spark_session, tag_dataframe
from meldtekst.models.store import load_model_dir, models_home
from meldtekst.tagging import result_columns, tag_frame, tag_texts

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "voorbeeld_meldingen.csv"
CANARY = "KANARIESPARK7Q2Z"
runner = CliRunner()


@pytest.fixture(scope="module")
def fast() -> Path:
    return models_home() / "fast"


@pytest.fixture(scope="module")
def jvm_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("spark-log") / "jvm.log"


@pytest.fixture(scope="module")
def spark(jvm_log: Path):
    """local[2] at the default (ERROR) level; the JVM's stdout and stderr go to ``jvm_log``."""
    saved = os.dup(1), os.dup(2)
    with jvm_log.open("wb") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            session = spark_session(
                "local[2]",
                conf={"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2"},
                progress=False,
            )
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
    yield session
    session.stop()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, corpus_rows: list[dict]) -> Path:
    """300 reports (corpus texts cycled, running ids), one with the canary, one null, one blank, as Parquet."""
    rows = [
        {"id": f"G{i:05d}", "datum": r["datum"], "rol": r["rol"], "tekst": r["tekst"]}
        for i, r in enumerate(corpus_rows[i % len(corpus_rows)] for i in range(300))
    ]
    rows[5]["tekst"] += f" {CANARY} woont in Valkenmoer."
    rows[7]["tekst"] = None
    rows[8]["tekst"] = "   "
    path = tmp_path_factory.mktemp("gen") / "generated.parquet"
    pd.DataFrame(rows).to_parquet(path, index=False)
    return path


def _tag(src: Path, dst: Path, model: Path) -> pd.DataFrame:
    r = runner.invoke(app, ["tag", str(src), "-o", str(dst), "--model", str(model), "-q"])
    assert r.exit_code == 0, r.output
    return pd.read_parquet(dst)


def _spark_tag(src: Path, dst: Path, model: str | Path, *extra: str) -> pd.DataFrame:
    r = runner.invoke(app, ["spark-tag", str(src), "-o", str(dst), "--model", str(model), "-q", *extra])
    assert r.exit_code == 0, r.output
    return pd.read_parquet(dst)


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same columns in the same order, same rows by id, scores within 1e-6."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want) and got["id"].is_unique and set(got["id"]) == set(want["id"])
    got = got.sort_values("id").reset_index(drop=True)
    want = want.sort_values("id").reset_index(drop=True)
    scores = [c for c in want.columns if c.startswith("score_")]
    rest = [c for c in want.columns if c not in scores]
    pd.testing.assert_frame_equal(got[rest], want[rest], check_dtype=False)
    assert np.abs(got[scores].to_numpy() - want[scores].to_numpy()).max() < 1e-6


def test_example_csv_same_as_tag(spark, fast: Path, tmp_path: Path):
    want = _tag(EXAMPLE, tmp_path / "ref.parquet", fast)
    got = _spark_tag(EXAMPLE, tmp_path / "out.parquet", fast)
    _assert_same(got, want)
    assert got["themes"].str.len().gt(0).sum() > 0


def test_example_csv_to_csv_keeps_delimiter_and_values(spark, fast: Path, tmp_path: Path):
    runner.invoke(app, ["tag", str(EXAMPLE), "-o", str(tmp_path / "ref.csv"), "--model", str(fast), "-q"])
    r = runner.invoke(app, ["spark-tag", str(EXAMPLE), "-o", str(tmp_path / "out.csv"), "--model", str(fast), "-q"])
    assert r.exit_code == 0, r.output
    parts = sorted((tmp_path / "out.csv").glob("part-*.csv"))
    read = {"sep": ";", "dtype": str, "keep_default_na": False}
    got = pd.concat([pd.read_csv(p, **read) for p in parts], ignore_index=True)
    want = pd.read_csv(tmp_path / "ref.csv", encoding="utf-8-sig", **read)
    assert list(got["id"]) == list(want["id"])  # one input file: order kept across the part files
    for col in want.columns:
        if col.startswith("score_"):
            assert np.allclose(got[col].astype(float), want[col].astype(float), atol=1e-6)
        else:
            assert list(got[col]) == list(want[col]), col


def test_generated_reports_same_as_tag_no_row_lost(spark, fast: Path, generated: Path, tmp_path: Path):
    want = _tag(generated, tmp_path / "ref.parquet", fast)
    got = _spark_tag(generated, tmp_path / "out", fast, "--partitions", "3")
    _assert_same(got, want)
    parts = sorted((tmp_path / "out").glob("part-*.parquet"))
    assert len(parts) == 3
    in_order = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    assert list(in_order["id"]) == list(pd.read_parquet(generated)["id"])
    blank = got.set_index("id").loc[["G00007", "G00008"]]
    assert (blank["themes"] == "").all() and (blank["needs_review"] == 0).all()


def test_tag_dataframe_matches_tag_frame_and_keeps_columns(spark, fast: Path, corpus_rows: list[dict]):
    texts = [r["tekst"] for r in corpus_rows[:40]] + [None, ""]
    pdf = pd.DataFrame(
        {
            "id": [f"T{i:03d}" for i in range(len(texts))],
            "n": pd.array([*range(len(texts) - 1), None], dtype="Int64"),
            "w": np.linspace(0, 1, len(texts)),
            "tekst": texts,
        }
    )
    df = spark.createDataFrame(pdf).repartition(4)  # 42 rows in 4 partitions, across 2 workers
    out = tag_dataframe(df, fast).toPandas().sort_values("id").reset_index(drop=True)
    model = load_model_dir(fast)
    want = tag_frame(model, pdf.assign(tekst=pdf["tekst"].fillna("")))
    added = list(result_columns(tag_texts(model, ["x"]), "table"))
    assert list(out.columns) == ["id", "n", "w", "tekst", *added]
    assert out["n"].isna().sum() == 1 and out["n"].dropna().astype(int).tolist() == list(range(len(texts) - 1))
    assert np.allclose(out["w"], pdf["w"]) and out["tekst"].isna().sum() == 1
    for col in added:
        if col.startswith("score_"):
            assert np.allclose(out[col], want[col], atol=1e-6)
        else:
            assert out[col].tolist() == want[col].tolist(), col
    nulls = out[out["tekst"].isna() | (out["tekst"] == "")]
    assert len(nulls) == 2 and (nulls["themes"] == "").all() and (nulls[list(model.theme_ids)] == 0).all().all()


def test_empty_partitions_and_empty_input(spark, fast: Path):
    df = spark.createDataFrame(pd.DataFrame({"id": ["a", "b"], "tekst": [None, "Mijn zoon zit thuis."]}))
    spread = df.repartition(6)  # at least four partitions are empty
    out = tag_dataframe(spread, fast).toPandas()
    assert sorted(out["id"]) == ["a", "b"]
    assert out.set_index("id").loc["a", "themes"] == ""
    assert tag_dataframe(df.limit(0), fast).count() == 0


def test_registry_uri_same_as_directory(spark, fast: Path, generated: Path, tmp_path: Path, monkeypatch):
    """models:/NAME@ALIAS: the driver resolves it, and so do the Python workers, which learn the
    tracking URI from the driver (this test's URI is not in the JVM's environment)."""
    import mlflow

    from meldtekst.tracking import log_pyfunc, set_alias

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.create_experiment("spark", artifact_location=str(tmp_path / "artifacts"))
    with mlflow.start_run(experiment_id=experiment):
        info = log_pyfunc(fast)
    version = mlflow.register_model(info.model_uri, "meldtekst-spark").version
    set_alias("meldtekst-spark", "production", str(version))
    src = tmp_path / "few.parquet"
    pd.read_parquet(generated).head(60).to_parquet(src, index=False)
    want = _spark_tag(src, tmp_path / "dir.parquet", fast)
    got = _spark_tag(src, tmp_path / "reg.parquet", "models:/meldtekst-spark@production")
    _assert_same(got, want)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--text-column", "bericht"], "no text column 'bericht'"),
        (["--model", "models-that-do-not-exist"], "model 'models-that-do-not-exist' not found"),
        (["--model", "models:/no-such-model@production"], "registry model 'models:/no-such-model@production'"),
        (["--format", "xml"], "unknown --format 'xml'"),
        (["--partitions", "0"], "--partitions must be >= 1"),
    ],
)
def test_user_errors_are_one_line(spark, fast: Path, tmp_path: Path, args: list[str], message: str, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")
    base = ["spark-tag", str(EXAMPLE), "-o", str(tmp_path / "o.parquet"), "--model", str(fast), "-q"]
    r = runner.invoke(app, [*base, *args])
    assert r.exit_code == 1
    errors = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]  # MLflow may log INFO lines
    assert len(errors) == 1 and message in errors[0] and "Traceback" not in r.output, r.output
    assert not (tmp_path / "o.parquet").exists()


def test_missing_input_and_existing_output(spark, fast: Path, tmp_path: Path):
    r = runner.invoke(app, ["spark-tag", str(tmp_path / "nope.parquet"), "-o", str(tmp_path / "o"), "-q"])
    assert r.exit_code == 1 and r.output.strip() == f"Error: {tmp_path / 'nope.parquet'}: does not exist"
    (tmp_path / "o").mkdir()
    r = runner.invoke(app, ["spark-tag", str(EXAMPLE), "-o", str(tmp_path / "o"), "--model", str(fast), "-q"])
    assert r.exit_code == 1 and "already exists; remove it or pass --overwrite" in r.output


def test_library_errors(spark, fast: Path):
    df = spark.createDataFrame(pd.DataFrame({"id": ["a"], "tekst": ["x"], "themes": ["y"]}))
    with pytest.raises(InputError, match="already has output column"):
        tag_dataframe(df, fast)
    with pytest.raises(ModelError, match="not found"):
        tag_dataframe(df.drop("themes"), "/nowhere/model")


def test_spark_logs_hold_no_report_text(spark, fast: Path, generated: Path, jvm_log: Path, tmp_path: Path):
    """Tag reports holding a canary, then fail one job; the JVM's log (default level) has neither
    the canary nor a stack trace."""
    _spark_tag(generated, tmp_path / "out", fast)
    r = runner.invoke(app, ["spark-tag", str(generated), "-o", str(tmp_path / "o2"), "--text-column", "x", "-q"])
    assert r.exit_code == 1 and CANARY not in r.output
    log = jvm_log.read_text(encoding="utf-8", errors="replace")
    assert CANARY not in log
    assert "Traceback" not in log and "\tat " not in log and "Exception" not in log, log[-2000:]


def test_worker_failure_is_one_line(spark, jvm_log: Path):
    """A task that fails in the Python worker: one line from the worker's exception, no Java trace.
    (Last of the in-process tests: a failed task's worker exits, and its successor reloads the model.)"""
    from meldtekst.interop.spark import spark_error

    def _fail(batches):  # local, so cloudpickle ships it by value (workers cannot import this module)
        for _ in batches:
            raise ValueError("kapot in de worker")
        yield from ()

    df = spark.createDataFrame(pd.DataFrame({"tekst": ["a", "b"]}))
    with pytest.raises(Exception) as info:
        df.mapInPandas(_fail, df.schema).collect()
    message = str(spark_error(info.value))
    assert message == "Spark job failed: ValueError: kapot in de worker"
    log = jvm_log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log and "\tat " not in log and "kapot" not in log, log[-2000:]


def test_cli_in_a_fresh_process_fails_in_one_line(fast: Path, tmp_path: Path):
    """The real command with Spark's default settings: a missing column is one line, no Java stack trace."""
    src = tmp_path / "in.csv"
    src.write_text(f"id,bericht\n1,{CANARY} zit thuis.\n", encoding="utf-8")
    args = ["spark-tag", str(src), "-o", str(tmp_path / "o"), "--model", str(fast), "--master", "local[1]"]
    proc = subprocess.run(
        [sys.executable, "-m", "meldtekst", *args, "--conf", "spark.ui.enabled=false"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    errors = [ln for ln in out.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "no text column 'tekst'" in errors[0] and "bericht" in errors[0]
    assert "Traceback" not in out and "\tat " not in out and "Exception" not in out, out
    assert CANARY not in out


def test_local_master_runs_the_workers_with_this_python(monkeypatch):
    """Spark starts Python workers with the first `python3` on PATH unless told otherwise; for a
    local master meldtekst tells it this interpreter, and a user's setting still wins."""
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    key = "spark.pyspark.python"
    assert session_settings("local[2]")[key] == sys.executable
    assert session_settings(None)[key] == sys.executable  # pyspark's default master: local[*]
    assert session_settings(None, {"spark.master": "local"})[key] == sys.executable
    assert session_settings("local[2]", {key: "/opt/venv/bin/python"})[key] == "/opt/venv/bin/python"
    for cluster in ("yarn", "spark://head:7077", "k8s://https://api:6443"):
        assert key not in session_settings(cluster), cluster  # the executors' path is not ours to guess
    monkeypatch.setenv("PYSPARK_PYTHON", "/env/python")
    assert session_settings("local[1]")[key] == "/env/python"


def test_script_from_a_virtualenv_that_is_not_activated(fast: Path, tmp_path: Path):
    """`meldtekst spark-tag` run by its full path with the interpreter's folder not on PATH (a
    virtualenv that is not activated): the workers must still find meldtekst."""
    script = Path(sys.executable).parent / "meldtekst"
    if not script.is_file():
        pytest.skip(f"no meldtekst script beside {sys.executable}")
    bindir = str(Path(sys.executable).parent)
    path = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and d != bindir and "shims" not in d]
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    env["PATH"] = os.pathsep.join(path)
    if not env.get("JAVA_HOME") and not shutil.which("java", path=env["PATH"]):
        pytest.skip("java is only on the interpreter's PATH entries")
    src = tmp_path / "in.csv"
    src.write_text("id,tekst\n1,Onze zoon zit sinds de herfstvakantie thuis.\n2,Geen bijzonderheden.\n")
    args = ["spark-tag", str(src), "-o", str(tmp_path / "out"), "--model", str(fast), "--master", "local[1]", "-q"]
    proc = subprocess.run(
        [str(script), *args, "--conf", "spark.ui.enabled=false"], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = pd.read_parquet(tmp_path / "out")
    assert sorted(out["id"].astype(str)) == ["1", "2"] and "thuiszitter" in out.columns
