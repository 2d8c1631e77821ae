"""`meldtekst spark-tag`: `meldtekst tag` for more reports than one machine tags in time, on Apache Spark."""

from __future__ import annotations

import typer
from rich.console import Console

from meldtekst.cli._app import app
from meldtekst.errors import InputError
from meldtekst.interop.spark import spark_tag


def _conf_pairs(values: list[str] | None) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--conf '{item}' is not KEY=VALUE")
        pairs[key.strip()] = value
    return pairs


@app.command(
    "spark-tag",
    epilog="Example: meldtekst spark-tag meldingen.parquet -o getagd.parquet --model models:/meldtekst@production",
)
def spark_tag_cli(
    input_path: str = typer.Argument(
        ..., metavar="INPUT", help="Parquet or CSV: a file or a folder of part files (local, hdfs://, s3a://)."
    ),
    output: str = typer.Option(
        ..., "--output", "-o", help="Output folder: CSV part files if it ends in .csv, else Parquet."
    ),
    model: str = typer.Option(
        None, "--model", "-m", help="models:/NAME@ALIAS | model DIR | fast; every executor must reach it."
    ),
    master: str = typer.Option(
        None, "--master", help="local[*] | spark://HOST:7077 | yarn (default: spark-submit's, else local[*])."
    ),
    text_column: str = typer.Option("tekst", "--text-column", help="Column with the report text."),
    partitions: int = typer.Option(None, "--partitions", help="Spread the rows over N tasks (default: the cores)."),
    input_fmt: str = typer.Option(None, "--format", help="csv | parquet (default: from INPUT's name or files)."),
    delimiter: str = typer.Option(None, "--delimiter", help="CSV delimiter (default: sniffed; ',' for remote files)."),
    threshold_scale: float = typer.Option(
        1.0, "--threshold-scale", help="Multiply every theme's threshold: < 1 tags more, > 1 tags fewer."
    ),
    no_evidence: bool = typer.Option(False, "--no-evidence", help="Skip evidence sentences (faster)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUTPUT if it exists."),
    conf: list[str] = typer.Option(
        None,
        "--conf",
        help="Spark setting KEY=VALUE (repeatable), as for spark-submit. On a cluster the executors need "
        "meldtekst's Python: spark.pyspark.python=/opt/venv/bin/python (local masters use this one).",
    ),
    log_level: str = typer.Option(
        "ERROR", "--spark-log-level", help="Spark's log level: ERROR (no stack traces), WARN, INFO."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No Spark progress bar or summary."),
) -> None:
    """Tag every report in INPUT on Spark and write OUTPUT with the columns `meldtekst tag` adds."""
    summary = spark_tag(
        input_path,
        output,
        model,
        master=master,
        text_column=text_column,
        partitions=partitions,
        input_fmt=input_fmt,
        delimiter=delimiter,
        threshold_scale=threshold_scale,
        with_evidence=not no_evidence,
        overwrite=overwrite,
        conf=_conf_pairs(conf),
        log_level=log_level,
        progress=not quiet,
    )
    if quiet:
        return
    Console(stderr=True).print(
        f"[green]{summary.rows_in} rows in, {summary.rows_out} rows out[/green], "
        f"{summary.rows_with_theme} with >= 1 theme; tagged with {summary.model} -> {output} "
        f"({summary.partitions} partitions, Spark start {summary.start_seconds:.1f} s, total {summary.seconds:.1f} s)"
    )
