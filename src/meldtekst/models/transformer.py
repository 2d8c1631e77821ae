"""A fine-tuned transformer (RobBERT by default) as a multi-label theme tagger over raw texts.

Reports longer than ``max_length`` tokens are cut into overlapping windows (the
tokenizer's ``return_overflowing_tokens`` with ``stride``). Every window is trained
with its report's labels, and a report's logits are the maximum over its windows, so a
theme mentioned once anywhere in a long report still counts. Training is the Hugging
Face ``Trainer`` (GPU when there is one, CPU otherwise); the kept epoch and early
stopping are decided on report-level dev scores, never on windows.

A fitted tagger saves as an ordinary transformers directory (``config.json``,
``model.safetensors``, tokenizer files) plus ``meldtekst_transformer.json`` with its
parameters, so the weights also load with plain ``transformers``.
"""

from __future__ import annotations

import gc
import json
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers  # a missing extra fails here, at import, where store.py turns it into advice
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import f1_score
from sklearn.utils.validation import check_is_fitted

from meldtekst.codebook import load_codebook
from meldtekst.errors import InputError, MeldtekstError, ModelError
from meldtekst.evaluation import tune_thresholds
from meldtekst.models.store import register_kind

__all__ = ["DEFAULT_BASE_MODEL", "PARAMS_FILE", "TransformerThemeTagger", "resolve_base"]

log = logging.getLogger(__name__)

DEFAULT_BASE_MODEL = "DTAI-KULeuven/robbert-2023-dutch-base"
PARAMS_FILE = "meldtekst_transformer.json"
FORMAT_VERSION = 1
SELECTION_METRICS = ("macro_f1_tuned", "macro_f1", "micro_f1")
EpochCallback = Callable[[int, dict[str, float]], None]


class TransformerThemeTagger(ClassifierMixin, BaseEstimator):
    """Fine-tunes ``base_model`` with one sigmoid output per theme; ``predict`` applies ``thresholds_``.

    ``base_model`` is a hub id, a local transformers directory or a built-in name of
    :mod:`meldtekst.basemodels` (``"e5-small"``). ``head_learning_rate`` is the rate for
    the freshly initialised classification head, which needs a larger step than the
    pretrained body. ``selection_metric`` picks the epoch that is kept and drives early
    stopping: ``macro_f1_tuned`` (default) is dev macro-F1 with per-theme thresholds
    tuned on dev, which is what the saved model delivers since training tunes its
    thresholds the same way; at a fixed 0.5 (``macro_f1``) rare themes score 0 for the
    first epochs and early stopping would stop on that plateau.
    ``freeze_embeddings`` keeps the word embeddings fixed (a large multilingual vocabulary
    such as e5's then costs no gradient or optimizer memory).
    """

    parallel_inside = True  # torch's own threads use the cores: `tag` runs one process

    def __init__(
        self,
        *,
        base_model: str = DEFAULT_BASE_MODEL,
        max_length: int = 256,
        stride: int = 64,
        epochs: int = 6,
        learning_rate: float = 3e-5,
        head_learning_rate: float | None = 3e-4,
        batch_size: int = 16,
        predict_batch_size: int = 32,
        gradient_accumulation_steps: int = 1,
        weight_decay: float = 0.01,
        warmup_ratio: float = 0.1,
        early_stopping_patience: int | None = 2,
        selection_metric: str = "macro_f1_tuned",
        freeze_embeddings: bool = False,
        mixed_precision: bool = True,
        seed: int = 13,
    ) -> None:
        self.base_model = base_model
        self.max_length = max_length
        self.stride = stride
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.head_learning_rate = head_learning_rate
        self.batch_size = batch_size
        self.predict_batch_size = predict_batch_size
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.early_stopping_patience = early_stopping_patience
        self.selection_metric = selection_metric
        self.freeze_embeddings = freeze_embeddings
        self.mixed_precision = mixed_precision
        self.seed = seed

    # ------------------------------------------------------------------ training

    def fit(
        self,
        texts: Sequence[str],
        y: np.ndarray,
        dev_texts: Sequence[str] | None = None,
        dev_y: np.ndarray | None = None,
        callback: EpochCallback | None = None,
    ) -> TransformerThemeTagger:
        """Fine-tune on ``texts``; with a dev set, keep the best epoch and stop early.

        ``callback(epoch, values)`` is called once per epoch with ``loss`` (mean training
        loss) and, with a dev set, ``dev_loss``, ``dev_macro_f1`` and ``dev_micro_f1`` (at
        0.5) and ``dev_macro_f1_tuned``, all over reports.
        """
        from transformers import DataCollatorWithPadding, EarlyStoppingCallback, TrainingArguments, set_seed

        texts = [str(t) for t in texts]
        y = _indicator(y, len(texts), "y")
        has_dev = dev_texts is not None and dev_y is not None and len(dev_texts) > 0
        dev_list = [str(t) for t in dev_texts] if has_dev and dev_texts is not None else []
        dev_matrix = _indicator(dev_y, len(dev_list), "dev_y") if has_dev else None
        if self.selection_metric not in SELECTION_METRICS:
            raise InputError(
                f"model.selection_metric must be one of {', '.join(SELECTION_METRICS)}, not '{self.selection_metric}'"
            )
        self.theme_ids_ = _theme_ids(y.shape[1])
        self.n_outputs_ = y.shape[1]
        set_seed(self.seed)
        self.tokenizer_, model = _load_base(self.base_model, self.theme_ids_)
        self.max_length_ = self._effective_max_length(model.config)
        if self.freeze_embeddings:
            model.get_input_embeddings().weight.requires_grad_(False)
        train_ds, train_owners = self._dataset(texts, y)
        dev_ds, dev_owners = self._dataset(dev_list, dev_matrix) if dev_matrix is not None else (None, None)
        log.info(
            "fine-tuning %s: %d reports -> %d windows (max_length %d, stride %d)",
            self.base_model,
            len(texts),
            len(train_owners),
            self.max_length_,
            self.stride,
        )

        def compute_metrics(prediction: Any) -> dict[str, float]:
            logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
            assert dev_owners is not None and dev_matrix is not None
            return report_metrics(np.asarray(logits), dev_owners, dev_matrix)

        cuda = torch.cuda.is_available()
        bf16 = bool(self.mixed_precision and cuda and torch.cuda.is_bf16_supported())
        workdir = Path(tempfile.mkdtemp(prefix="meldtekst-finetune-"))
        reporter = _EpochReporter(callback, has_dev)
        try:
            args = TrainingArguments(
                output_dir=str(workdir),
                num_train_epochs=float(self.epochs),
                learning_rate=float(self.learning_rate),
                weight_decay=float(self.weight_decay),
                warmup_ratio=float(self.warmup_ratio),
                per_device_train_batch_size=int(self.batch_size),
                per_device_eval_batch_size=int(self.predict_batch_size),
                gradient_accumulation_steps=int(self.gradient_accumulation_steps),
                eval_strategy="epoch" if has_dev else "no",
                save_strategy="epoch" if has_dev else "no",
                save_total_limit=1,
                save_only_model=True,
                load_best_model_at_end=has_dev,
                metric_for_best_model=self.selection_metric if has_dev else None,
                greater_is_better=True,
                logging_strategy="epoch",
                report_to="none",
                seed=self.seed,
                data_seed=self.seed,
                bf16=bf16,
                fp16=bool(self.mixed_precision and cuda and not bf16),
                dataloader_pin_memory=cuda,
            )
            callbacks: list[Any] = [reporter]
            if has_dev and self.early_stopping_patience:
                callbacks.append(EarlyStoppingCallback(early_stopping_patience=int(self.early_stopping_patience)))
            trainer = _trainer_class()(
                model=model,
                args=args,
                train_dataset=train_ds,
                eval_dataset=dev_ds,
                processing_class=self.tokenizer_,
                data_collator=DataCollatorWithPadding(self.tokenizer_, pad_to_multiple_of=8 if cuda else None),
                compute_metrics=compute_metrics if has_dev else None,
                callbacks=callbacks,
            )
            trainer.head_learning_rate = float(self.head_learning_rate) if self.head_learning_rate else None
            trainer.train()
            self.model_ = trainer.model.eval()
            best = trainer.state.best_metric
        finally:
            trainer = None
            gc.collect()
            if cuda:
                torch.cuda.empty_cache()
            shutil.rmtree(workdir, ignore_errors=True)
        self.history_ = reporter.history
        self.best_epoch_ = _best_epoch(self.history_, f"dev_{self.selection_metric}", best)
        self.thresholds_ = np.full(self.n_outputs_, 0.5)
        return self

    def _effective_max_length(self, config: Any) -> int:
        limit = _position_limit(config)
        tok_limit = getattr(self.tokenizer_, "model_max_length", None)
        if isinstance(tok_limit, int) and 0 < tok_limit < 100_000:
            limit = min(limit, tok_limit) if limit else tok_limit
        length = int(self.max_length)
        if limit and length > limit:
            log.warning("max_length %d exceeds what %s can take; using %d", length, self.base_model, limit)
            length = limit
        specials = self.tokenizer_.num_special_tokens_to_add()
        if not 0 <= self.stride < length - specials:
            raise InputError(
                f"model.stride ({self.stride}) must be >= 0 and smaller than max_length minus "
                f"{specials} special tokens ({length - specials})"
            )
        return length

    def encode_windows(self, texts: Sequence[str]) -> tuple[dict[str, list[list[int]]], np.ndarray]:
        """Token windows of every text and, per window, the index of its text."""
        enc = self.tokenizer_(
            list(texts),
            truncation=True,
            max_length=self.max_length_,
            stride=self.stride,
            return_overflowing_tokens=True,
            padding=False,
        )
        owners = np.asarray(enc["overflow_to_sample_mapping"], dtype=np.int64)
        inputs = {k: enc[k] for k in self.tokenizer_.model_input_names if k in enc}
        return inputs, owners

    def _dataset(self, texts: Sequence[str], y: np.ndarray) -> tuple[Any, np.ndarray]:
        from datasets import Dataset

        inputs, owners = self.encode_windows(texts)
        columns: dict[str, Any] = dict(inputs)
        columns["labels"] = y[owners].astype(np.float32).tolist()
        return Dataset.from_dict(columns), owners

    # ---------------------------------------------------------------- prediction

    def window_logits(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Logits of every window (windows x themes) and the text each window belongs to."""
        check_is_fitted(self, "model_")
        inputs, owners = self.encode_windows([str(t) for t in texts])
        model = self.model_.eval()
        device = next(model.parameters()).device
        ids = inputs["input_ids"]
        out = np.zeros((len(ids), self.n_outputs_), dtype=np.float32)
        # longest first, so batches hold windows of similar length and padding stays small
        order = np.argsort([-len(row) for row in ids], kind="stable")
        pad_values = {"input_ids": self.tokenizer_.pad_token_id or 0}
        with torch.inference_mode():
            for start in range(0, len(order), self.predict_batch_size):
                idx = order[start : start + self.predict_batch_size]
                batch = {k: _pad([rows[i] for i in idx], pad_values.get(k, 0)).to(device) for k, rows in inputs.items()}
                out[idx] = model(**batch).logits.float().cpu().numpy()
        return out, owners

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            check_is_fitted(self, "model_")
            return np.zeros((0, self.n_outputs_))
        logits, owners = self.window_logits(texts)
        return max_pool(logits, owners, len(texts))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """n x themes sigmoid probabilities; a report's score is its best window's."""
        return expit(self.decision_function(texts))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return (self.predict_proba(texts) >= self.thresholds_).astype(int)

    # --------------------------------------------------------------- persistence

    def save_pretrained(self, path: str | Path) -> None:
        """Weights as safetensors, the tokenizer, and the parameters in ``meldtekst_transformer.json``."""
        check_is_fitted(self, "model_")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model_.save_pretrained(str(path), safe_serialization=True)
        self.tokenizer_.save_pretrained(str(path))
        state = {
            "format_version": FORMAT_VERSION,
            "params": self.get_params(),
            "max_length": self.max_length_,
            "theme_ids": list(self.theme_ids_),
            "thresholds": [float(v) for v in self.thresholds_],
            "best_epoch": self.best_epoch_,
            "history": self.history_,
        }
        (path / PARAMS_FILE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_pretrained(cls, path: str | Path) -> TransformerThemeTagger:
        """Load a tagger written by :meth:`save_pretrained` (safetensors only, nothing pickled)."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path = Path(path)
        file = path / PARAMS_FILE
        if not file.is_file():
            raise ModelError(f"{path}: transformer model directory has no {PARAMS_FILE}")
        try:
            state = json.loads(file.read_text(encoding="utf-8"))
            known = set(cls._get_param_names())
            est = cls(**{k: v for k, v in state["params"].items() if k in known})
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{file}: corrupt transformer parameters ({exc})") from None
        try:
            with _quiet_transformers():
                est.tokenizer_ = AutoTokenizer.from_pretrained(str(path))
                model = AutoModelForSequenceClassification.from_pretrained(str(path), use_safetensors=True)
        except Exception as exc:
            raise ModelError(f"{path}: cannot load the transformer weights ({_one_line(exc)})") from None
        est.model_ = model.to(_device()).eval()
        est.max_length_ = int(state.get("max_length", est.max_length))
        est.theme_ids_ = tuple(state.get("theme_ids") or _theme_ids(model.config.num_labels))
        est.n_outputs_ = len(est.theme_ids_)
        est.thresholds_ = np.asarray(state.get("thresholds") or [0.5] * est.n_outputs_, dtype=float)
        est.best_epoch_ = state.get("best_epoch")
        est.history_ = list(state.get("history") or [])
        return est


# ---------------------------------------------------------------------- helpers


def max_pool(window_logits: np.ndarray, owners: np.ndarray, n: int) -> np.ndarray:
    """Per report (``owners`` maps window -> report), the element-wise maximum over its windows."""
    out = np.full((n, window_logits.shape[1]), -np.inf, dtype=np.float64)
    np.maximum.at(out, owners, window_logits)
    return out


def report_metrics(window_logits: np.ndarray, owners: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Dev metrics over reports: macro/micro-F1 at 0.5, and macro-F1 at thresholds tuned on these scores."""
    scores = expit(max_pool(window_logits, owners, len(y)))
    at_half = (scores >= 0.5).astype(int)
    tuned = (scores >= tune_thresholds(y, scores)).astype(int)
    return {
        "macro_f1": float(f1_score(y, at_half, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(y, at_half, average="micro", zero_division=0)),
        "macro_f1_tuned": float(f1_score(y, tuned, average="macro", zero_division=0)),
    }


def resolve_base(name: str) -> str:
    """A local directory as is; a built-in name through :mod:`meldtekst.basemodels` when installed."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    try:
        from meldtekst.basemodels import resolve_base_model
    except ImportError:
        return name
    return str(resolve_base_model(name))


def _load_base(name: str, theme_ids: tuple[str, ...]) -> tuple[Any, Any]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    source = resolve_base(name)
    try:
        with _quiet_transformers():  # "newly initialized classifier weights ... TRAIN this model": we do
            tokenizer = AutoTokenizer.from_pretrained(source)
            model = AutoModelForSequenceClassification.from_pretrained(
                source,
                num_labels=len(theme_ids),
                problem_type="multi_label_classification",
                id2label=dict(enumerate(theme_ids)),
                label2id={t: i for i, t in enumerate(theme_ids)},
                ignore_mismatched_sizes=True,
            )
    except MeldtekstError:
        raise
    except Exception as exc:
        raise ModelError(
            f"base model '{name}' cannot be loaded ({_one_line(exc)}); without internet, pass a local "
            "transformers directory with --base-model"
        ) from None
    if not getattr(tokenizer, "is_fast", False):
        raise ModelError(f"base model '{name}' has no fast tokenizer (tokenizer.json), needed for sliding windows")
    return tokenizer, model


def _position_limit(config: Any) -> int | None:
    """Longest input the position embeddings allow (RoBERTa-style models reserve pad_token_id + 1)."""
    positions = getattr(config, "max_position_embeddings", None)
    if not positions:
        return None
    if "roberta" in getattr(config, "model_type", "") or "camembert" in getattr(config, "model_type", ""):
        return int(positions) - int(getattr(config, "pad_token_id", 1) or 1) - 1
    return int(positions)


def _trainer_class() -> type:
    """The Trainer with a separate learning rate for the classification head."""
    from transformers import Trainer

    class HeadLRTrainer(Trainer):
        head_learning_rate: float | None = None

        def create_optimizer(self) -> Any:
            if self.optimizer is None:
                model = self.model
                decay = set(self.get_decay_parameter_names(model))
                body = {id(p) for p in model.base_model.parameters()}
                groups: dict[tuple[bool, bool], list[Any]] = {}
                for name, param in model.named_parameters():
                    if param.requires_grad:
                        groups.setdefault((id(param) not in body, name in decay), []).append(param)
                lr = self.args.learning_rate
                head_lr = self.head_learning_rate or lr
                cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, model)
                self.optimizer = cls(
                    [
                        {
                            "params": params,
                            "weight_decay": self.args.weight_decay if decays else 0.0,
                            "lr": head_lr if head else lr,
                        }
                        for (head, decays), params in groups.items()
                    ],
                    **kwargs,
                )
            return self.optimizer

    return HeadLRTrainer


class _EpochReporter(transformers.TrainerCallback):
    """Collects per-epoch training loss and report-level dev metrics and hands them to the callback."""

    def __init__(self, callback: EpochCallback | None, has_dev: bool) -> None:
        self.callback = callback
        self.has_dev = has_dev
        self.history: list[dict[str, float]] = []
        self._loss: float | None = None

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kw: Any) -> None:
        if logs and "loss" in logs:
            self._loss = float(logs["loss"])
            if not self.has_dev:
                self._emit(state, {})

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: dict[str, float] | None = None, **kw: Any):
        metrics = metrics or {}
        values = {f"dev_{k[5:]}": float(v) for k, v in metrics.items() if k.startswith("eval_") and _is_metric(k)}
        self._emit(state, values)

    def _emit(self, state: Any, values: dict[str, float]) -> None:
        epoch = round(state.epoch or 0)
        row = ({"loss": self._loss} if self._loss is not None else {}) | values
        self.history.append({"epoch": epoch, **row})
        if self.callback is not None:
            self.callback(epoch, row)


def _is_metric(key: str) -> bool:
    return key[5:] in ("loss", *SELECTION_METRICS)


def _best_epoch(history: list[dict[str, float]], key: str, best: float | None) -> int | None:
    """The first epoch that reached the best selection score (the one the Trainer kept)."""
    scored = [row for row in history if key in row]
    if not scored:
        return int(history[-1]["epoch"]) if history else None
    if best is not None:
        for row in scored:
            if np.isclose(row[key], best):
                return int(row["epoch"])
    return int(max(scored, key=lambda row: row[key])["epoch"])


def _indicator(y: Any, rows: int, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 2:
        raise ValueError(f"{name} must be a 2-d indicator matrix (reports x themes)")
    if len(y) != rows:
        raise ValueError(f"{name} has {len(y)} rows for {rows} texts")
    return y.astype(np.int64)


def _theme_ids(k: int) -> tuple[str, ...]:
    ids = load_codebook().ids
    return tuple(ids) if len(ids) == k else tuple(f"label_{j}" for j in range(k))


def _pad(rows: list[list[int]], value: int) -> torch.Tensor:
    width = max(len(r) for r in rows)
    arr = np.full((len(rows), width), value, dtype=np.int64)
    for i, r in enumerate(rows):
        arr[i, : len(r)] = r
    return torch.from_numpy(arr)


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def _save(estimator: TransformerThemeTagger, path: Path) -> None:
    estimator.save_pretrained(path)


register_kind("transformer", _save, TransformerThemeTagger.from_pretrained)
