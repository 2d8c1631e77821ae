"""Model directories: save and load a trained tagger with everything needed to use and trust it.

A model directory holds:
- ``meta.json``: kind, name, version, codebook version, theme ids, per-theme
  thresholds, review band, training-data hash, config, metrics;
- the weights in a safe format, never pickle: plain arrays (the linear model: ``linear.json`` +
  ``linear.npz``; the encoder model adds ``encoder.json`` + ``encoder_head.npz``), or, for
  directories written before that format, ``model.skops`` read with a type allow-list;
- ``README.md``: the model card.
Built-in names (``fast``, ``accurate``) resolve to folders under the project's
``models/``; ``models:/NAME@ALIAS`` resolves through the MLflow registry.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from meldtekst.codebook import load_codebook
from meldtekst.errors import ModelError

META = "meta.json"
CARD = "README.md"
SKOPS = "model.skops"
# Types a skops file may contain; anything else is refused at load time.
_TRUSTED_PREFIXES = ("meldtekst.", "sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


def models_home() -> Path:
    """Where built-in models live: $MELDTEKST_MODELS or the repository's ``models/`` folder."""
    env = os.environ.get("MELDTEKST_MODELS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "models"


@dataclass
class ThemeModelDir:
    """A loaded model: the estimator plus the metadata that makes its scores usable."""

    path: Path | None
    estimator: Any
    meta: dict[str, Any]
    theme_ids: tuple[str, ...] = field(init=False)
    thresholds: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.theme_ids = tuple(self.meta["theme_ids"])
        self.thresholds = np.asarray([self.meta["thresholds"][t] for t in self.theme_ids], dtype=float)

    @property
    def name(self) -> str:
        return str(self.meta.get("name", "model"))

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "0"))

    @property
    def review_band(self) -> float:
        return float(self.meta.get("review_band", 0.0))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.estimator.predict_proba(list(texts)), dtype=float)


# kind -> (save weights, load weights); kinds in _KIND_MODULES register themselves on import,
# so heavy dependencies (torch) load only when such a model is used.
_SAVERS: dict[str, Callable[[Any, Path], None]] = {}
_LOADERS: dict[str, Callable[[Path], Any]] = {}
_KIND_MODULES = {
    "transformer": "meldtekst.models.transformer",
    "encoder": "meldtekst.models.encoder_scorer",
}


def register_kind(kind: str, saver: Callable[[Any, Path], None], loader: Callable[[Path], Any]) -> None:
    _SAVERS[kind] = saver
    _LOADERS[kind] = loader


def _ensure_kind(kind: str) -> None:
    if kind not in _LOADERS and kind in _KIND_MODULES:
        import importlib

        try:
            importlib.import_module(_KIND_MODULES[kind])
        except ImportError as exc:
            raise ModelError(
                f"model kind '{kind}' needs extra packages ({exc.name}); install with: pip install -e '.[transformer]'"
            ) from None


def _save_skops(estimator: Any, path: Path) -> None:
    import zipfile

    import skops.io as sio

    sio.dump(estimator, path / SKOPS, compression=zipfile.ZIP_DEFLATED, compresslevel=6)


def _load_skops(path: Path) -> Any:
    import skops.io as sio

    file = path / SKOPS
    if not file.is_file():
        raise ModelError(f"{path}: model directory has no {SKOPS}")
    try:
        untrusted = sio.get_untrusted_types(file=file)
        refused = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
        if refused:
            raise ModelError(f"{file}: refuses to load untrusted types {refused[:3]}")
        return sio.load(file, trusted=untrusted)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"{file}: cannot load model weights ({type(exc).__name__}: {exc})") from None


def register_array_kind(kind: str, scorer_class: Callable[[], type]) -> None:
    """A kind whose fitted estimator keeps a scorer (``scorer_``) saved as plain arrays by its own
    ``save``/``load``; estimators without one, and directories written before the array format
    (no ``STATE_FILE``), go through skops. ``scorer_class`` is called late, so that registering
    imports nothing."""

    def save(estimator: Any, path: Path) -> None:
        scorer = getattr(estimator, "scorer_", None)
        if scorer is None and isinstance(estimator, scorer_class()):
            scorer = estimator
        if scorer is None:
            _save_skops(estimator, path)
            return
        scorer.save(path)

    def load(path: Path) -> Any:
        if not (path / scorer_class().STATE_FILE).is_file():
            return _load_skops(path)
        try:
            return scorer_class().load(path)
        except Exception as exc:
            raise ModelError(f"{path}: cannot load model weights ({type(exc).__name__}: {exc})") from None

    register_kind(kind, save, load)


def _linear_scorer() -> type:
    from meldtekst.models.linear_scorer import LinearScorer

    return LinearScorer


register_array_kind("linear", _linear_scorer)


def save_model_dir(model: ThemeModelDir, path: str | Path, *, card: str | None = None) -> Path:
    """Write the directory atomically: build it beside ``path``, then swap it in."""
    path = Path(path)
    kind = model.meta["kind"]
    _ensure_kind(kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; a model directory is meant to be shared
    try:
        _SAVERS[kind](model.estimator, tmp)
        (tmp / META).write_text(json.dumps(model.meta, indent=2, ensure_ascii=False, default=_json_default) + "\n")
        if card is not None:
            (tmp / CARD).write_text(card, encoding="utf-8")
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    model.path = path
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_meta_json(meta_file: Path) -> dict[str, Any]:
    """The parsed ``meta.json``, unchecked (for a label without loading weights); corrupt JSON
    is one `ModelError` line, the same wherever a model's metadata is read."""
    try:
        return json.loads(meta_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{meta_file}: corrupt model metadata ({exc})") from None


def read_meta(path: Path) -> dict[str, Any]:
    meta_file = path / META
    if not meta_file.is_file():
        raise ModelError(f"{path}: not a meldtekst model directory (no {META})")
    meta = read_meta_json(meta_file)
    for key in ("kind", "theme_ids", "thresholds", "codebook_version"):
        if key not in meta:
            raise ModelError(f"{meta_file}: model metadata lacks '{key}'")
    cb = load_codebook()
    if int(meta["codebook_version"]) != cb.version:
        raise ModelError(
            f"{path}: model was trained for codebook v{meta['codebook_version']}, this meldtekst uses "
            f"v{cb.version}; retrain it with `meldtekst train`"
        )
    if tuple(meta["theme_ids"]) != cb.ids:
        raise ModelError(f"{path}: model themes differ from the codebook's; retrain it")
    _ensure_kind(meta["kind"])
    if meta["kind"] not in _LOADERS:
        raise ModelError(f"{path}: unknown model kind '{meta['kind']}'")
    return meta


def load_model_dir(path: str | Path) -> ThemeModelDir:
    path = Path(path)
    if not path.is_dir():
        raise ModelError(f"{path}: model directory does not exist")
    meta = read_meta(path)
    estimator = _LOADERS[meta["kind"]](path)
    return ThemeModelDir(path=path, estimator=estimator, meta=meta)


def builtin_names() -> list[str]:
    home = models_home()
    if not home.is_dir():
        return []
    return sorted(p.name for p in home.iterdir() if (p / META).is_file())


def default_model_name() -> str:
    """The built-in model `tag` uses without --model (see models/DEFAULT)."""
    marker = models_home() / "DEFAULT"
    if marker.is_file():
        return marker.read_text(encoding="utf-8").strip() or "fast"
    return "fast"


def load_model(spec: str | Path | None = None) -> ThemeModelDir:
    """Load by built-in name, directory, or ``models:/NAME@ALIAS`` registry URI."""
    spec = str(spec) if spec is not None else default_model_name()
    if spec.startswith("models:/") or spec.startswith("runs:/"):
        from meldtekst.tracking import load_registered_model

        return load_registered_model(spec)
    candidate = Path(spec)
    if candidate.is_dir():
        return load_model_dir(candidate)
    if "/" not in spec and (models_home() / spec).is_dir():
        return load_model_dir(models_home() / spec)
    known = ", ".join(builtin_names()) or "(none installed)"
    raise ModelError(f"model '{spec}' not found: not a directory and not a built-in model ({known})")
