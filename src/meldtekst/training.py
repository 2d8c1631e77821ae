"""Config -> data -> fit -> thresholds -> metrics -> model directory (+ one MLflow run).

A YAML config maps one to one onto `TrainConfig`, the way SetFit's
`TrainingArguments` does, so a researcher can see every knob in one file.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold, MultilabelStratifiedShuffleSplit
from sklearn.base import clone

import meldtekst
from meldtekst.codebook import load_codebook
from meldtekst.errors import InputError
from meldtekst.evaluation import theme_metrics, tune_thresholds
from meldtekst.models.linear import MIN_TERM_REPORTS, LinearThemeTagger
from meldtekst.models.store import ThemeModelDir, save_model_dir
from meldtekst.validate import LabelledData, load_labelled

log = logging.getLogger(__name__)

MIN_POSITIVES = 3


@dataclass
class TrainConfig:
    """Everything that decides a training run; saved with the model and logged to MLflow."""

    kind: str = "linear"
    name: str = "fast"
    version: str = "1"
    seed: int = 13
    threshold_folds: int = 5
    # "train+dev": after model selection, fit the shipped model on train and dev together (21 % more
    # reports here), with thresholds and the review rule from out-of-fold scores; test stays unseen
    fit_on: str = "train"
    # De-identify the training texts (meldtekst.anonymize) before any feature is learnt, so no name,
    # number or address from a report can end up in a vocabulary stored with the model. Switching it
    # off is the user's explicit choice and is recorded in the model's metadata.
    deidentify: bool = True
    # Tune thresholds on out-of-fold scores where each fold holds out one value of this column (e.g.
    # `schrijver`: one writer's reports scored by a model that never saw that writer's style), so the
    # thresholds expect text unlike the training data. Unset: stratified random folds.
    threshold_groups: str | None = None
    model: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainConfig:
        path = Path(path)
        if not path.is_file():
            raise InputError("config file does not exist", path=path)
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise InputError(f"unknown config key(s): {', '.join(sorted(unknown))}", path=path)
        return cls(**raw)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def git_commit() -> str:
    """HEAD of the checkout meldtekst runs from, with ``+dirty`` when its package source differs
    from that commit (the commit alone would then not reproduce the run)."""
    try:
        root = Path(meldtekst.__file__).resolve().parents[2]
        git = ["git", "-C", str(root)]
        out = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False)
        commit = out.stdout.strip()
        if not commit:
            return "unknown"
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no", "--", "src"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        return commit + ("+dirty" if changed.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def split_data(data: LabelledData, seed: int) -> tuple[LabelledData, LabelledData, LabelledData | None]:
    """Train/dev(/test) from a `split` column, or a stratified 85/15 train/dev split without one."""
    if "split" in data.frame.columns:
        split = data.frame["split"].astype(str).to_numpy()
        train = data.subset(split == "train")
        dev = data.subset(split == "dev")
        test = data.subset(split == "test") if (split == "test").any() else None
        if len(train) and len(dev):
            return train, dev, test
    splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=0.15, random_state=seed)
    tr, _dv = next(splitter.split(np.zeros(len(data)), data.y))
    mask_tr = np.zeros(len(data), dtype=bool)
    mask_tr[tr] = True
    return data.subset(mask_tr), data.subset(~mask_tr), None


def check_trainable(train: LabelledData, path: Path | None) -> None:
    counts = train.label_counts()
    few = [t for t, c in counts.items() if c < MIN_POSITIVES]
    if few:
        raise InputError(
            f"too few positive reports to train theme(s) {', '.join(few)} "
            f"(need >= {MIN_POSITIVES} in the training part, have {min(counts[t] for t in few)})",
            path=path,
            column="labels",
        )


def build_estimator(config: TrainConfig) -> Any:
    if config.kind == "linear":
        params = dict(config.model)
        for key in ("word_ngrams", "char_ngrams"):
            if key in params:
                params[key] = tuple(params[key])
        return LinearThemeTagger(random_state=config.seed, **params)
    if config.kind == "encoder":
        from meldtekst.models.encoder import EncoderThemeTagger

        return EncoderThemeTagger(random_state=config.seed, **config.model)
    if config.kind == "transformer":
        from meldtekst.models.transformer import TransformerThemeTagger

        allowed = set(TransformerThemeTagger._get_param_names()) - {"seed"}  # the seed is the config's own
        unknown = set(config.model) - allowed
        if unknown:
            raise InputError(f"unknown transformer model parameter(s) in config: {', '.join(sorted(unknown))}")
        return TransformerThemeTagger(seed=config.seed, **config.model)
    raise InputError(f"unknown model kind '{config.kind}' in config (use linear or transformer)")


def oof_scores(estimator: Any, data: LabelledData, folds: int, seed: int, groups: str | None = None) -> np.ndarray:
    """Out-of-fold probabilities on the training part, for threshold tuning without a leak.

    With ``groups`` (a column such as ``schrijver``) each fold holds out one group: a writer's
    reports are scored by a model fitted without that writer, as new reports in a new style are."""
    scores = np.zeros(data.y.shape, dtype=float)
    if groups is not None:
        from sklearn.model_selection import LeaveOneGroupOut

        if groups not in data.frame.columns:
            raise InputError(f"threshold_groups: no column '{groups}' in the training data", column=groups)
        labels = data.frame[groups].astype(str).to_numpy()
        if len(set(labels)) < 2:
            raise InputError(f"threshold_groups: column '{groups}' needs at least two groups", column=groups)
        splits = LeaveOneGroupOut().split(np.zeros(len(data)), data.y, labels)
    else:
        splits = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(
            np.zeros(len(data)), data.y
        )
    for tr, te in splits:
        est = clone(estimator).fit([data.texts[i] for i in tr], data.y[tr])
        scores[te] = est.predict_proba([data.texts[i] for i in te])
    return scores


@dataclass
class TrainResult:
    model: ThemeModelDir
    output: Path
    metrics: dict[str, Any]
    seconds: float
    run_id: str | None = None
    registered_version: str | None = None


def train(
    data_path: str | Path,
    config: TrainConfig,
    output: str | Path,
    *,
    base_model: str | None = None,
    experiment: str | None = "meldtekst",
    register: str | None = None,
    track: bool = True,
    text_column: str = "tekst",
    id_column: str = "id",
    extra: Sequence[str | Path] = (),
) -> TrainResult:
    """Train a model from a labelled file and write its directory; returns metrics as data.

    ``extra`` files (e.g. from `meldtekst labelstudio import`) are merged after ``data_path`` by
    `meldtekst.labelling.merge`: the newest label of an id wins, the corpus's dev/test split stays."""
    from meldtekst import tracking

    data_path = Path(data_path)
    np.random.seed(config.seed)
    if extra:
        from meldtekst.labelling.merge import merge_labelled

        data, merged = merge_labelled([data_path, *extra], text_column=text_column, id_column=id_column)
        data_hash, data_name = merged.sha256, merged.name
        merge_counts = {"relabelled_ids": merged.replaced, "added_ids": merged.added}
    else:
        data = load_labelled(data_path, text_column=text_column, id_column=id_column)
        data_hash, data_name, merge_counts = file_sha256(data_path), data_path.name, {}
    train_part, dev, test = split_data(data, config.seed)
    check_trainable(train_part, data_path)
    fit_part = _fit_part(config, data, train_part, test)
    _check_min_df(config)
    if config.deidentify:
        # dev and test stay as they are: they are only scored, the way `tag` sees new reports
        fit_part, train_part = _deidentified(fit_part, train_part)
    dev_fitted = config.fit_on == "train+dev"  # then dev gives no figures: its reports were fitted on
    if base_model is not None:
        config.model["base_model"] = base_model
    estimator = build_estimator(config)
    cb = load_codebook()
    with tracking.training_run(experiment, config, enabled=track) as run:
        run.log_data(Path(data_name), data_hash, len(data), train_part, dev, test)
        start = time.perf_counter()
        if config.kind in ("linear", "encoder") and config.threshold_folds > 1:
            tuning_scores, tuning_y = (
                oof_scores(estimator, fit_part, config.threshold_folds, config.seed, config.threshold_groups),
                fit_part.y,
            )
        else:
            tuning_scores, tuning_y = None, None
        fitted = clone(estimator)
        if config.kind == "transformer":
            fitted.fit(train_part.texts, train_part.y, dev_texts=dev.texts, dev_y=dev.y, callback=run.log_epoch)
        else:
            fitted.fit(fit_part.texts, fit_part.y)
        dev_scores = None  # scored once when thresholds come from dev (a transformer pass is slow on CPU)
        if tuning_scores is None:
            tuning_scores, tuning_y = fitted.predict_proba(dev.texts), dev.y
            dev_scores = tuning_scores
        thresholds = tune_thresholds(tuning_y, tuning_scores)
        seconds = time.perf_counter() - start
        fitted.thresholds_ = thresholds
        metrics: dict[str, Any] = {"train_seconds": round(seconds, 2)}
        for name, part in (("dev", dev), ("test", test)):
            if part is None or not len(part) or (name == "dev" and dev_fitted):
                continue
            scores = dev_scores if name == "dev" and dev_scores is not None else fitted.predict_proba(part.texts)
            pred = (scores >= thresholds).astype(int)
            metrics[name] = theme_metrics(part.y, pred, cb.ids)
        meta = {
            "kind": config.kind,
            "name": config.name,
            "version": config.version,
            "description": config.description,
            "codebook_version": cb.version,
            "theme_ids": list(cb.ids),
            "thresholds": {t: float(v) for t, v in zip(cb.ids, thresholds, strict=True)},
            "review_band": 0.0,
            "training_data": {
                "file": data_name,
                "sha256": data_hash,
                **merge_counts,
                "rows": len(data),
                "train_rows": len(train_part),
                "dev_rows": len(dev),
                "test_rows": len(test) if test is not None else 0,
                "fit_on": config.fit_on,
                "fitted_rows": len(fit_part),
                "label_counts_train": fit_part.label_counts(),
                "text": "de-identified before fitting" if config.deidentify else "as given (deidentify: false)",
            },
            "config": asdict(config),
            "seed": config.seed,
            "metrics": metrics,
            "code_version": {"meldtekst": meldtekst.__version__, "git_commit": git_commit()},
            "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        }
        if getattr(fitted, "history_", None) is not None:  # transformer: per-epoch curve and the kept epoch
            meta["epochs"] = {"best": fitted.best_epoch_, "history": fitted.history_}
        review_on = None
        if dev_fitted:  # out-of-fold scores are the unseen ones
            review_on, review_scores, review_y = "out-of-fold scores of train+dev", tuning_scores, tuning_y
        elif dev is not None and len(dev):
            review_on, review_y = "dev", dev.y
            review_scores = dev_scores if dev_scores is not None else fitted.predict_proba(dev.texts)
        if review_on is not None:
            review = choose_review_band(review_scores, review_y, thresholds)
            meta["review"] = review.pop("review")  # the rule `tag` uses (meldtekst.review)
            meta["review_band"] = review["band"]  # the older rule, for meldtekst versions before it
            meta["review_band_dev"] = review
            meta["review_scored_on"] = review_on
        model = ThemeModelDir(path=None, estimator=fitted, meta=meta)
        out = save_model_dir(model, output, card=model_card(meta))
        run.log_result(meta, out)
        run_id = run.run_id
        registered = tracking.register_model(out, register, run) if register and track else None
    return TrainResult(
        model=model, output=out, metrics=metrics, seconds=seconds, run_id=run_id, registered_version=registered
    )


def _check_min_df(config: TrainConfig) -> None:
    if config.kind not in ("linear", "encoder"):
        return
    params = config.model.get("linear", config.model) if config.kind == "encoder" else config.model
    min_df = params.get("min_df", MIN_TERM_REPORTS)
    if not isinstance(min_df, int) or min_df < MIN_TERM_REPORTS:
        raise InputError(
            f"model.min_df must be an integer >= {MIN_TERM_REPORTS}, not {min_df!r}: the n-gram vocabulary is stored "
            "in the model, and a term from fewer reports could identify someone"
        )


def _deidentified(*parts: LabelledData) -> tuple[LabelledData, ...]:
    """The parts with their texts de-identified; a report in several parts is de-identified once."""
    from rich.progress import track

    from meldtekst.anonymize import deidentify

    unique = {i: t for part in parts for i, t in zip(part.ids, part.texts, strict=True)}
    clean = {
        i: deidentify(t).text
        for i, t in track(unique.items(), description="De-identifying training text", transient=True)
    }
    return tuple(part.with_texts([clean[i] for i in part.ids]) for part in parts)


def _fit_part(config: TrainConfig, data: LabelledData, train: LabelledData, test: LabelledData | None) -> LabelledData:
    """The reports the final model is fitted on (``config.fit_on``), in file order."""
    if config.fit_on == "train":
        return train
    if config.fit_on != "train+dev":
        raise InputError(f"fit_on must be 'train' or 'train+dev', not {config.fit_on!r}")
    if config.kind not in ("linear", "encoder") or config.threshold_folds < 2:
        raise InputError(
            "fit_on: train+dev needs thresholds from out-of-fold scores (kind linear or encoder with "
            "threshold_folds >= 2); a transformer keeps dev for choosing its epoch"
        )
    test_ids = set(test.ids) if test is not None else set()
    return data.subset(np.array([i not in test_ids for i in data.ids], dtype=bool))


def choose_review_band(
    scores: np.ndarray, y: np.ndarray, thresholds: np.ndarray, *, max_flagged: float = 0.25
) -> dict[str, Any]:
    """The review rule: the risk cut-off (`meldtekst.review`) that flags at most ``max_flagged`` of the
    dev reports, so `needs_review` points analysts to the reports most likely wrong without asking
    them to read everything. Also the older probability band, under the same cap, which models
    keep in ``review_band`` so meldtekst versions before the risk rule still flag something.
    Returns the band, what it catches on dev, and the new rule under ``review``."""
    from meldtekst.review import choose_cutoff

    wrong = ((scores >= thresholds).astype(int) != y).any(axis=1)
    dist = np.abs(scores - thresholds).min(axis=1)
    best: dict[str, Any] = {"band": 0.0, "flagged_share": 0.0, "errors_caught_share": 0.0}
    for band in np.arange(0.01, 0.5, 0.01):
        flagged = dist < band
        if flagged.mean() > max_flagged:
            break
        best = {
            "band": float(round(band, 3)),
            "flagged_share": round(float(flagged.mean()), 3),
            "errors_caught_share": round(float((wrong & flagged).sum() / max(wrong.sum(), 1)), 3),
        }
    best["review"] = choose_cutoff(scores, y, thresholds, max_flagged=max_flagged)
    return best


def model_card(meta: dict[str, Any]) -> str:
    m = meta.get("metrics", {})
    lines = [
        f"# meldtekst model `{meta['name']}` v{meta['version']}",
        "",
        meta.get("description") or "Multi-label theme tagger for Dutch meldpunt reports.",
        "",
        f"- kind: `{meta['kind']}`; codebook v{meta['codebook_version']} ({len(meta['theme_ids'])} themes)",
        f"- trained {meta['created']} on `{meta['training_data']['file']}` "
        f"(sha256 `{meta['training_data']['sha256'][:12]}…`, {meta['training_data']['train_rows']} train / "
        f"{meta['training_data']['dev_rows']} dev / {meta['training_data']['test_rows']} test reports"
        + (
            f"; fitted on train+dev, {meta['training_data']['fitted_rows']} reports"
            if meta["training_data"].get("fit_on") == "train+dev"
            else ""
        )
        + "), "
        f"seed {meta['seed']}, code {meta['code_version']['git_commit'][:10]}",
        _review_card_line(meta),
        _recipe_card_line(meta),
        *_transformer_card_lines(meta),
        "",
        "## Intended use",
        "Counting and routing reports to a parents' association's meldpunt. Scores are estimates: "
        "check `needs_review` rows by hand, and quote per-theme F1 with every count.",
        "The training corpus is fictitious and written for this project; real reports in other styles "
        "will score lower than the figures below.",
        "",
        "## Metrics",
    ]
    for split in ("dev", "test"):
        if split in m:
            lines.append(f"**{split}**: micro-F1 {m[split]['micro_f1']:.3f}, macro-F1 {m[split]['macro_f1']:.3f}")
    if "test" in m or "dev" in m:
        split = "test" if "test" in m else "dev"
        lines += ["", f"| theme | threshold | P | R | F1 | support ({split}) |", "|---|---|---|---|---|---|"]
        for t in meta["theme_ids"]:
            pt = m[split]["per_theme"][t]
            lines.append(
                f"| {t} | {meta['thresholds'][t]:.3f} | {pt['precision']:.2f} | {pt['recall']:.2f} | "
                f"{pt['f1']:.2f} | {pt['support']} |"
            )
    return "\n".join(lines) + "\n"


def _recipe_card_line(meta: dict[str, Any]) -> str:
    """How the training text was treated and how thresholds were tuned: what a reader of the figures
    needs to know about privacy and about how the model meets unseen styles."""
    cfg = meta.get("config", {})
    params = cfg.get("model", {})
    linear = params.get("linear", params)
    parts = [f"training text {meta['training_data'].get('text', 'as given')}"]
    if "min_df" in linear:
        parts.append(f"n-grams kept from at least {linear['min_df']} reports")
    groups = cfg.get("threshold_groups")
    parts.append(
        f"thresholds from out-of-fold scores with one `{groups}` held out per fold"
        if groups
        else "thresholds from stratified out-of-fold scores"
    )
    if params.get("sentence_weight"):
        parts.append(f"sentence-anchored scores (weight {params['sentence_weight']:g})")
    return "- " + "; ".join(parts)


def _review_card_line(meta: dict[str, Any]) -> str:
    review = meta.get("review") or {}
    if review:
        return (
            f"- needs_review: summed log-odds closeness of the scores to their thresholds >= {review['cutoff']:.3f} "
            f"(on {meta.get('review_scored_on', 'dev')} it flags {review['flagged_share']:.0%} of reports and catches "
            f"{review['errors_caught_share']:.0%} of the reports with an error)"
        )
    dev = meta.get("review_band_dev", {})
    return (
        f"- review band: ±{meta.get('review_band', 0)} around each theme's threshold "
        f"(on dev it flags {dev.get('flagged_share', 0):.0%} of reports and catches "
        f"{dev.get('errors_caught_share', 0):.0%} of the reports with an error)"
    )


def _transformer_card_lines(meta: dict[str, Any]) -> list[str]:
    """Base model, windows and the kept epoch: what a fine-tuned model's figures depend on."""
    if meta.get("kind") != "transformer":
        return []
    from meldtekst.models.transformer import TransformerThemeTagger

    model = TransformerThemeTagger().get_params() | meta.get("config", {}).get("model", {})
    epochs = meta.get("epochs") or {}
    ran = len(epochs.get("history") or [])
    return [
        f"- base model `{model['base_model']}`, windows of {model['max_length']} tokens "
        f"(overlap {model['stride']}), max-pooled over a report; kept epoch {epochs.get('best')} of {ran}"
    ]
