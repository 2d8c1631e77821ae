"""Everything MLflow: one run per training, the registry, and the pyfunc wrapper.

Privacy rule: nothing here ever logs report text. Data is identified by file name,
sha256, row counts and per-theme label counts; the pyfunc's input example is a
synthetic sentence, not a row of the data.
"""

from __future__ import annotations

import logging
import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from meldtekst.errors import ModelError

log = logging.getLogger(__name__)

SYNTHETIC_EXAMPLE = "Mijn dochter zit sinds de herfstvakantie thuis en de school dreigt met Veilig Thuis."
_PACKAGES = ("scikit-learn", "numpy", "pandas", "spacy", "skops", "mlflow", "torch", "transformers")


def tracking_uri() -> str:
    """$MLFLOW_TRACKING_URI, else a local SQLite store, which supports the registry without a server."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def local_store(uri: str | None = None) -> Path | None:
    """The file or folder a local tracking URI (``sqlite:///``, ``file:``, a plain path) keeps its
    data in; None for a server. Opening a local store creates it, so readers check this first."""
    uri = uri or tracking_uri()
    if uri.startswith("sqlite:///"):
        name = uri[len("sqlite:///") :].split("?", 1)[0]
        return Path(name) if name and name != ":memory:" else None
    if uri.startswith("file://"):
        return Path(uri[len("file://") :])
    if "://" not in uri and not uri.startswith(("databricks", "http")):
        return Path(uri)
    return None


def store_exists(uri: str | None = None) -> bool:
    """False only for a local store that is not there yet (so listing it must not create it)."""
    store = local_store(uri)
    return store is None or store.exists()


_MLFLOW_QUIET = {"verbose": False}
# MLflow's own loggers, and those of the libraries its SQLite store and downloads use
_MLFLOW_LOGGERS = ("mlflow", "alembic", "huey")


def configure_mlflow_output(*, verbose: bool) -> None:
    """Keep MLflow quiet (its database set-up and alembic lines, registration chatter, download
    bars, hints meant for MLflow developers) unless ``verbose``; the CLI calls this at start, before
    MLflow is imported, since MLflow reads some of these settings only then."""
    _MLFLOW_QUIET["verbose"] = verbose
    if not verbose:
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    _quiet_mlflow()


def _quiet_mlflow() -> None:
    """Apply the choice of `configure_mlflow_output` to an MLflow that may already be imported."""
    import sys
    import warnings

    verbose = _MLFLOW_QUIET["verbose"]
    if verbose:
        return
    for name in _MLFLOW_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"mlflow(\.|$)")
    if "mlflow.utils.logging_utils" in sys.modules:  # eprint(): "Successfully registered model ..."
        sys.modules["mlflow.utils.logging_utils"].disable_logging()


def _mlflow() -> Any:
    import mlflow

    _quiet_mlflow()
    mlflow.set_tracking_uri(tracking_uri())
    return mlflow


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


class _Run:
    """Thin handle over an active MLflow run (or a no-op when tracking is off)."""

    def __init__(self, mlflow: Any | None) -> None:
        self.mlflow = mlflow
        self.run_id: str | None = None
        if mlflow is not None:
            self.run_id = mlflow.active_run().info.run_id

    def log_data(self, path: Path, sha256: str, rows: int, train: Any, dev: Any, test: Any) -> None:
        if self.mlflow is None:
            return
        mf = self.mlflow
        mf.log_params({"data_file": path.name, "data_sha256": sha256, "data_rows": rows})
        mf.set_tag("data_sha256", sha256)
        metrics = {"data_rows": rows, "train_rows": len(train), "dev_rows": len(dev)}
        if test is not None:
            metrics["test_rows"] = len(test)
        metrics.update({f"train_count_{t}": c for t, c in train.label_counts().items()})
        mf.log_metrics(metrics)

    def log_epoch(self, epoch: int, values: dict[str, float]) -> None:
        """Per-epoch curves as ``epoch/<name>`` at step ``epoch``.

        The prefix keeps them apart from the final ``dev_macro_f1`` etc. of ``log_result``:
        MLflow shows a key's value at its highest step, so a shared name would show the
        last epoch's figure instead of the saved model's.
        """
        if self.mlflow is not None:
            self.mlflow.log_metrics({f"epoch/{k}": float(v) for k, v in values.items()}, step=epoch)

    def log_result(self, meta: dict[str, Any], model_dir: Path) -> None:
        if self.mlflow is None:
            return
        mf = self.mlflow
        flat: dict[str, float] = {"train_seconds": meta["metrics"].get("train_seconds", 0.0)}
        report: dict[str, Any] = {}
        for split in ("dev", "test"):
            m = meta["metrics"].get(split)
            if not m:
                continue
            report[split] = m
            flat[f"{split}_micro_f1"] = m["micro_f1"]
            flat[f"{split}_macro_f1"] = m["macro_f1"]
            for theme, pt in m["per_theme"].items():
                for key in ("precision", "recall", "f1"):
                    flat[f"{split}_{key}_{theme}"] = pt[key]
        if meta.get("epochs", {}).get("best") is not None:
            flat["best_epoch"] = meta["epochs"]["best"]
        mf.log_metrics(flat)
        mf.log_dict(meta["thresholds"], "thresholds.json")
        mf.log_dict(report, "classification_report.json")
        _log_f1_chart(mf, report)
        mf.log_artifacts(str(model_dir), artifact_path="model_dir")


def _log_f1_chart(mf: Any, report: dict[str, Any]) -> None:
    if not report:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    split = "test" if "test" in report else "dev"
    themes = list(report[split]["per_theme"])
    fig, ax = plt.subplots(figsize=(7, 6))
    for key, marker in (("precision", "o"), ("recall", "s"), ("f1", "D")):
        ax.scatter([report[split]["per_theme"][t][key] for t in themes], themes, label=key, marker=marker)
    ax.set_xlim(0, 1.02)
    ax.set_title(f"per-theme P/R/F1 on {split}")
    ax.legend(loc="lower left")
    fig.tight_layout()
    mf.log_figure(fig, f"per_theme_{split}.png")
    plt.close(fig)


@contextmanager
def training_run(experiment: str | None, config: Any, *, enabled: bool = True) -> Iterator[_Run]:
    """Open one MLflow run with the config, code and package versions as params/tags."""
    if not enabled or experiment is None:
        yield _Run(None)
        return
    from dataclasses import asdict

    from meldtekst.codebook import load_codebook
    from meldtekst.training import git_commit

    mf = _mlflow()
    mf.set_experiment(experiment)
    with mf.start_run(run_name=f"{config.name}-{config.kind}"):
        params = {k: v for k, v in asdict(config).items() if k != "model"}
        params.update({f"model.{k}": v for k, v in config.model.items()})
        mf.log_params({k: str(v)[:500] for k, v in params.items()})
        mf.set_tags(
            {
                "git_commit": git_commit(),
                "codebook_version": str(load_codebook().version),
                "seed": str(config.seed),
                **{f"version.{k}": v for k, v in package_versions().items()},
            }
        )
        yield _Run(mf)


# ---------------------------------------------------------------- pyfunc + registry


def _pyfunc_class() -> type:
    import mlflow.pyfunc

    class MeldtekstModel(mlflow.pyfunc.PythonModel):
        """A meldtekst model directory as an MLflow pyfunc: DataFrame with `tekst` in, theme columns out."""

        def load_context(self, context: Any) -> None:
            from meldtekst.models.store import load_model_dir

            self.model = load_model_dir(context.artifacts["model_dir"])

        def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> Any:
            from meldtekst.tagging import tag_frame

            params = params or {}
            column = params.get("text_column", "tekst")
            if column not in model_input.columns:
                raise ModelError(f"pyfunc input has no text column '{column}'")
            out = tag_frame(
                self.model, model_input, text_column=column, threshold_scale=float(params.get("threshold_scale", 1.0))
            )
            return out.drop(columns=[c for c in model_input.columns])

    return MeldtekstModel


def log_pyfunc(model_dir: Path, artifact_path: str = "pyfunc") -> Any:
    """Log ``model_dir`` as a pyfunc model in the active run, with a signature from a synthetic example."""
    import mlflow
    from mlflow.models import infer_signature

    from meldtekst.models.store import load_model_dir
    from meldtekst.tagging import tag_frame

    example = pd.DataFrame({"tekst": [SYNTHETIC_EXAMPLE]})
    model = load_model_dir(model_dir)
    output = tag_frame(model, example).drop(columns=["tekst"])
    signature = infer_signature(example, output, params={"threshold_scale": 1.0, "text_column": "tekst"})
    return mlflow.pyfunc.log_model(
        name=artifact_path,
        python_model=_pyfunc_class()(),
        artifacts={"model_dir": str(model_dir)},
        signature=signature,
        input_example=example,
        pip_requirements=[_requirement(model.meta.get("kind", "linear"))],
    )


def _requirement(kind: str) -> str:
    """meldtekst itself, with the ``transformer`` extra (torch, transformers) for models that need it."""
    extra = "[transformer]" if kind in ("transformer", "encoder") else ""
    return f"meldtekst{extra}=={_own_version()}"


def _own_version() -> str:
    import meldtekst

    return meldtekst.__version__


def register_model(model_dir: Path, name: str, run: _Run) -> str:
    """Log the pyfunc in ``run`` and register it as a new version of ``name``; returns the version."""
    mf = run.mlflow
    if mf is None:
        raise ModelError("registering needs MLflow tracking to be on")
    info = log_pyfunc(model_dir)
    _quiet_mlflow()  # MLflow's model logging turns its event output back on when it ends
    mv = mf.register_model(info.model_uri, name)
    log.info("registered %s version %s", name, mv.version)
    return str(mv.version)


def _require_store() -> None:
    if not store_exists():
        raise ModelError(
            f"no MLflow store at {tracking_uri()}: train with --register first, or set MLFLOW_TRACKING_URI"
        )


def set_alias(name: str, alias: str, version: str) -> None:
    from mlflow import MlflowClient

    _require_store()
    _mlflow()
    try:
        MlflowClient().set_registered_model_alias(name, alias, version)
    except Exception as exc:
        raise ModelError(f"cannot set alias '{alias}' on {name} v{version}: {str(exc).splitlines()[0]}") from None


def list_registered() -> list[dict[str, Any]]:
    """Registered models with their aliases; none (and no store created) where there is no store."""
    if not store_exists():
        return []
    from mlflow import MlflowClient

    _mlflow()
    out = []
    try:
        for rm in MlflowClient().search_registered_models():
            for alias, version in (rm.aliases or {}).items():
                out.append({"name": rm.name, "alias": alias, "version": version})
            if not rm.aliases:
                out.append(
                    {
                        "name": rm.name,
                        "alias": "",
                        "version": rm.latest_versions[-1].version if rm.latest_versions else "",
                    }
                )
    except Exception as exc:  # registry unreachable: list what we can
        log.warning("model registry not available: %s", str(exc).splitlines()[0])
    return out


def list_model_versions(name: str | None = None) -> list[dict[str, Any]]:
    """Every registered version (by model name, newest version first) with its aliases and run."""
    from datetime import UTC, datetime

    if not store_exists():
        return []
    from mlflow import MlflowClient

    _mlflow()
    client = MlflowClient()
    rows: list[dict[str, Any]] = []
    try:
        models = [rm for rm in _all_pages(client.search_registered_models) if name is None or rm.name == name]
        for rm in sorted(models, key=lambda m: m.name):
            versions = _all_pages(client.search_model_versions, filter_string=f"name = '{_quote(rm.name)}'")
            by_version: dict[str, set[str]] = {}  # search results leave ModelVersion.aliases empty
            for alias, version in (rm.aliases or {}).items():
                by_version.setdefault(str(version), set()).add(alias)
            for mv in sorted(versions, key=lambda v: -int(v.version)):
                created = (
                    datetime.fromtimestamp(mv.creation_timestamp / 1000, tz=UTC) if mv.creation_timestamp else None
                )
                rows.append(
                    {
                        "name": rm.name,
                        "version": str(mv.version),
                        "aliases": sorted(by_version.get(str(mv.version), set()) | set(mv.aliases or [])),
                        "run_id": mv.run_id or "",
                        "created": created.replace(microsecond=0).isoformat() if created else "",
                    }
                )
    except Exception as exc:
        raise ModelError(f"model registry at {tracking_uri()} cannot be read: {_first_line(exc)}") from None
    return rows


def _all_pages(search: Any, **kwargs: Any) -> list[Any]:
    out: list[Any] = []
    token = None
    while True:
        page = search(page_token=token, **kwargs)
        out.extend(page)
        token = getattr(page, "token", None)
        if not token:
            return out


def _quote(name: str) -> str:
    return name.replace("'", "\\'")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load_registered_model(uri: str) -> Any:
    """Resolve ``models:/NAME@ALIAS`` (or ``models:/NAME/VERSION``) to a loaded model directory."""
    if not store_exists():
        raise ModelError(f"registry model '{uri}' cannot be loaded: no MLflow store at {tracking_uri()}")
    mf = _mlflow()
    try:
        pyfunc = mf.pyfunc.load_model(uri)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"registry model '{uri}' cannot be loaded: {first}") from None
    return pyfunc.unwrap_python_model().model
