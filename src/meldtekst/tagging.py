"""Scores to themes: thresholds, evidence sentences, review flags; and streaming a file through a model.

`tag_texts` is the one tagging function: the CLI, the MLflow pyfunc and Spark all
call it, so every route gives the same columns.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import multiprocessing as mp
import os
import re
import sys
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from meldtekst.errors import InputError
from meldtekst.io import TableInfo, TableWriter, check_writable_output, read_table
from meldtekst.models.store import ThemeModelDir
from meldtekst.review import needs_review as review_flags
from meldtekst.text import sentences
from meldtekst.validate import as_text, is_blank, require_column

log = logging.getLogger(__name__)

OUTPUT_COLUMNS = ("themes", "scores", "evidence", "needs_review")


@dataclass
class TagResult:
    """Model output for a batch of texts, in input order."""

    theme_ids: tuple[str, ...]
    scores: np.ndarray  # n x k probabilities
    assigned: np.ndarray  # n x k bool
    evidence: list[dict[str, str]]
    needs_review: np.ndarray  # n bool
    empty: np.ndarray  # n bool
    explanations: list[dict[str, list[dict[str, Any]]]] | None = None  # with explain > 0 only

    def themes(self, i: int) -> list[str]:
        return [t for t, a in zip(self.theme_ids, self.assigned[i], strict=True) if a]


def concat_results(parts: Sequence[TagResult]) -> TagResult:
    """One result from consecutive batches' results, in order."""
    if len(parts) == 1:
        return parts[0]
    explanations = None
    if all(p.explanations is not None for p in parts):
        explanations = [e for p in parts for e in p.explanations or []]
    return TagResult(
        parts[0].theme_ids,
        np.concatenate([p.scores for p in parts]),
        np.concatenate([p.assigned for p in parts]),
        [e for p in parts for e in p.evidence],
        np.concatenate([p.needs_review for p in parts]),
        np.concatenate([p.empty for p in parts]),
        explanations,
    )


def tag_texts(
    model: ThemeModelDir,
    texts: Sequence[str],
    *,
    threshold_scale: float = 1.0,
    with_evidence: bool = True,
    review_band: float | None = None,
    explain: int = 0,
) -> TagResult:
    """Score texts, apply per-theme thresholds (times ``threshold_scale``), find evidence;
    with ``explain`` > 0 also the top ``explain`` spans per assigned theme (meldtekst.explain)."""
    texts = [as_text(t) for t in texts]
    n, k = len(texts), len(model.theme_ids)
    empty = np.array([not t.strip() for t in texts], dtype=bool)
    scores = np.zeros((n, k), dtype=float)
    live = np.flatnonzero(~empty)
    sentence_scores = None
    if len(live):
        live_texts = [texts[i] for i in live]
        if with_evidence and hasattr(model.estimator, "predict_with_sentences"):
            live_scores, per_doc, sent_proba = model.estimator.predict_with_sentences(live_texts)
            sentence_scores = (live, per_doc, sent_proba)
        else:
            live_scores = model.predict_proba(live_texts)
        scores[live] = live_scores
    thresholds = np.clip(model.thresholds * threshold_scale, 0.0, 1.0)
    assigned = (scores >= thresholds) & ~empty[:, None]
    needs_review = review_flags(scores, thresholds, model.meta, empty, review_band)
    if not with_evidence:
        evidence: list[dict[str, str]] = [{} for _ in texts]
    elif sentence_scores is not None:
        evidence = _evidence_from_sentences(model.theme_ids, n, assigned, *sentence_scores)
    else:
        evidence = find_evidence(model, texts, assigned)
    explanations = None
    if explain > 0:
        from meldtekst.explain import explain_texts

        explanations = explain_texts(model, texts, assigned, k=explain)
    return TagResult(model.theme_ids, scores, assigned, evidence, needs_review, empty, explanations)


def find_evidence(model: ThemeModelDir, texts: Sequence[str], assigned: np.ndarray) -> list[dict[str, str]]:
    """Per assigned theme, the sentence whose own score for that theme is highest.

    All sentences of the batch are scored in one call to the model, so this works
    for every model kind and costs about one extra pass over the text.
    """
    out: list[dict[str, str]] = [{} for _ in texts]
    owners: list[int] = []
    sents: list[str] = []
    for i, text in enumerate(texts):
        if not assigned[i].any():
            continue
        ss = sentences(text)
        if len(ss) <= 1:
            for j in np.flatnonzero(assigned[i]):
                out[i][model.theme_ids[j]] = text.strip()
            continue
        owners.extend([i] * len(ss))
        sents.extend(s.text for s in ss)
    if not sents:
        return out
    sent_scores = model.predict_proba(sents)
    owners_arr = np.asarray(owners)
    for i in np.unique(owners_arr):
        rows = np.flatnonzero(owners_arr == i)
        for j in np.flatnonzero(assigned[i]):
            best = rows[int(np.argmax(sent_scores[rows, j]))]
            out[i][model.theme_ids[j]] = sents[best]
    return out


def _evidence_from_sentences(
    theme_ids: Sequence[str], n: int, assigned: np.ndarray, live: np.ndarray, per_doc: list, sent_proba: np.ndarray
) -> list[dict[str, str]]:
    """Evidence when the model scored every sentence in the same pass (the linear model)."""
    out: list[dict[str, str]] = [{} for _ in range(n)]
    offset = 0
    for i, ss in zip(live, per_doc, strict=True):
        rows = slice(offset, offset + len(ss))
        offset += len(ss)
        if not ss or not assigned[i].any():
            continue
        best = sent_proba[rows].argmax(axis=0)
        for j in np.flatnonzero(assigned[i]):
            out[i][theme_ids[j]] = ss[best[j]].text
    return out


def result_columns(result: TagResult, fmt: str) -> dict[str, list[Any]]:
    """Output columns for one chunk, in the documented order for the output format."""
    ids = result.theme_ids
    themes = [result.themes(i) for i in range(len(result.empty))]
    cols: dict[str, list[Any]] = {}
    if fmt == "jsonl":
        cols["themes"] = themes
        cols["scores"] = [{t: round(float(s), 4) for t, s in zip(ids, row, strict=True)} for row in result.scores]
        cols["evidence"] = result.evidence
        cols["needs_review"] = [bool(v) for v in result.needs_review]
        if result.explanations is not None:
            cols["explanations"] = result.explanations
        return cols
    for j, t in enumerate(ids):
        cols[t] = result.assigned[:, j].astype(int).tolist()
    cols["themes"] = [";".join(ts) for ts in themes]
    for j, t in enumerate(ids):
        cols[f"score_{t}"] = np.round(result.scores[:, j], 4).tolist()
    cols["evidence"] = [format_evidence(ev) for ev in result.evidence]
    cols["needs_review"] = [int(v) for v in result.needs_review]
    if result.explanations is not None:
        from meldtekst.explain import format_uitleg

        cols["uitleg"] = [format_uitleg(e) for e in result.explanations]
    return cols


def _with_results(df: pd.DataFrame, result: TagResult, fmt: str) -> pd.DataFrame:
    """The input rows, columns unchanged, followed by the output columns (added in one step)."""
    return pd.concat([df, pd.DataFrame(result_columns(result, fmt), index=df.index)], axis=1)


def format_evidence(evidence: dict[str, str]) -> str:
    """The table form of a report's evidence: ``theme: sentence | theme: sentence``."""
    return " | ".join(f"{t}: {s}" for t, s in evidence.items())


def parse_evidence(value: Any, theme_ids: Sequence[str]) -> dict[str, str]:
    """A report's evidence read back from a tagged file: the dict JSONL holds (or its JSON text), or
    the table form `format_evidence` writes. Only known themes with a non-blank sentence are kept."""
    if is_blank(value):
        return {}
    ids = set(theme_ids)
    if isinstance(value, dict):
        return {str(k): as_text(v) for k, v in value.items() if str(k) in ids and not is_blank(v)}
    text = as_text(value)
    if text.lstrip().startswith("{"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            return parse_evidence(obj, theme_ids)
    parts = _evidence_splitter(tuple(theme_ids)).split(text)
    # parts: [before, id1, sentence1, id2, sentence2, ...]
    out: dict[str, str] = {}
    for i in range(1, len(parts) - 1, 2):
        sentence = parts[i + 1].strip()
        if sentence:
            out[parts[i]] = sentence
    return out


@lru_cache(maxsize=4)
def _evidence_splitter(theme_ids: tuple[str, ...]) -> re.Pattern[str]:
    ids = "|".join(sorted(map(re.escape, theme_ids), key=len, reverse=True))
    return re.compile(rf"(?:^|\s\|\s)({ids}):\s")


@dataclass
class TagSummary:
    input: Path
    output: Path
    rows: int = 0
    rows_with_theme: int = 0
    empty_texts: int = 0
    duplicate_ids: int = 0
    needs_review: int = 0
    theme_counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    model: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def reports_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": str(self.input),
            "output": str(self.output),
            "model": self.model,
            "rows": self.rows,
            "rows_with_theme": self.rows_with_theme,
            "empty_texts": self.empty_texts,
            "duplicate_ids": self.duplicate_ids,
            "needs_review": self.needs_review,
            "theme_counts": dict(self.theme_counts.most_common()),
            "seconds": round(self.seconds, 3),
            "reports_per_second": round(self.reports_per_second, 1),
        }


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.samefile(b))
    except OSError:
        return False


def tag_file(
    input_path: str | Path,
    output_path: str | Path,
    model: ThemeModelDir,
    *,
    text_column: str = "tekst",
    id_column: str = "id",
    sheet: str | None = None,
    threshold_scale: float = 1.0,
    review_band: float | None = None,
    chunksize: int = 2000,
    with_evidence: bool = True,
    progress: bool = False,
    workers: int | None = None,
    explain: int = 0,
) -> TagSummary:
    """Stream ``input_path`` through ``model`` into ``output_path`` chunk by chunk.

    Every input row comes out, in order, with its columns unchanged; the output
    replaces ``output_path`` only once it is complete.
    """
    src, dst = Path(input_path), Path(output_path)
    if _same_file(src, dst):
        raise InputError("output must not be the input file", path=dst)
    check_writable_output(dst, inputs=[src])  # a folder or unwritable output fails now, not after the run
    if threshold_scale <= 0:
        raise InputError("--threshold-scale must be > 0")
    if review_band is not None and not 0 <= review_band <= 1:
        raise InputError("--review-band must be between 0 and 1")
    info = TableInfo(path=src, fmt="")
    summary = TagSummary(input=src, output=dst, model=f"{model.name} {model.version}")
    id_hashes: list[np.ndarray] = []  # 8 bytes a row: a million ids in a Counter would cost ~100 MB
    out_fmt = dst.suffix.lower()
    fmt = "jsonl" if out_fmt in (".jsonl", ".ndjson") else "table"
    start = time.perf_counter()
    chunks = read_table(src, sheet=sheet, chunksize=chunksize, info=info, id_column=id_column)
    bar = _progress(src, progress)
    # closing(): on an exception in this block (Ctrl-C, SIGTERM, a full disk) the worker pool stops
    # at once, before the temp output is removed, not when the generator is garbage collected
    with (
        bar as task_progress,
        TableWriter(dst) as writer,
        contextlib.closing(
            _scored_chunks(
                chunks,
                model,
                text_column,
                src,
                info,
                writer,
                workers,
                threshold_scale=threshold_scale,
                review_band=review_band,
                with_evidence=with_evidence,
                explain=explain,
            )
        ) as scored,
    ):
        task = task_progress.add_task("tagging", total=None) if task_progress else None
        for chunk, result in scored:
            if id_column in chunk.columns:
                id_hashes.append(np.fromiter((hash(as_text(v)) for v in chunk[id_column]), np.int64, len(chunk)))
            writer.write(_with_results(chunk, result, fmt))
            summary.rows += len(chunk)
            summary.empty_texts += int(result.empty.sum())
            summary.rows_with_theme += int(result.assigned.any(axis=1).sum())
            summary.needs_review += int(result.needs_review.sum())
            for j, t in enumerate(result.theme_ids):
                summary.theme_counts[t] += int(result.assigned[:, j].sum())
            if task_progress is not None and task is not None:
                task_progress.update(task, advance=len(chunk), description=f"tagged {summary.rows} rows")
            log.info("tagged %d rows", summary.rows)
    summary.seconds = time.perf_counter() - start
    summary.duplicate_ids = _duplicates(id_hashes)
    summary.warnings.extend(info.warnings)
    summary.warnings.extend(writer.warnings)
    if summary.empty_texts:
        summary.warnings.append(f"{summary.empty_texts} row(s) with an empty text: kept, tagged with no themes")
    if summary.duplicate_ids:
        summary.warnings.append(f"{summary.duplicate_ids} id(s) occur more than once: all rows kept")
    return summary


def _duplicates(id_hashes: list[np.ndarray]) -> int:
    """How many distinct ids occur more than once (64-bit hashes: a false match is ~1e-8 likely at 1M rows)."""
    if not id_hashes:
        return 0
    _, counts = np.unique(np.concatenate(id_hashes), return_counts=True)
    return int((counts > 1).sum())


def _check_columns(chunk: pd.DataFrame, model: ThemeModelDir, text_column: str, src: Path) -> str:
    columns = [str(c) for c in chunk.columns]
    tcol = require_column(columns, text_column, src, what="text")
    clash = [c for c in columns if c in OUTPUT_COLUMNS or c in model.theme_ids or c.startswith("score_")]
    if clash:
        raise InputError(f"input already has output column(s) {clash[:3]}; tag the original file instead", path=src)
    return tcol


_WORKER_MODEL: ThemeModelDir | None = None
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _worker_init(parent: int) -> None:
    """Runs first in each forked worker: end with the parent, whatever ends the parent.

    The parent's SIGTERM/SIGHUP handlers (raise in the CLI's main thread) make no sense here:
    a worker dies on those signals at once, ignores Ctrl-C (the parent, which the terminal
    signals too, stops the pool), and on Linux gets SIGTERM when the parent dies, even by
    SIGKILL, instead of waiting forever on a queue nobody writes to.
    """
    import signal

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the pool is still stopped by the parent's cleanup
            log.debug("prctl(PR_SET_PDEATHSIG) not available")
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """End the workers now (a run that was interrupted or failed): waiting for their chunks to
    finish would keep report text in memory and delay the cleanup for nothing."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + 5
    for proc in processes:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(1)
    if manager is not None:
        # let the pool's own thread finish closing its pipes: at interpreter exit Python 3.11
        # would otherwise race it and print "Exception ignored ... Bad file descriptor"
        manager.join(max(1.0, deadline - time.monotonic()))


def _worker_tag(texts: list[str], kwargs: dict[str, Any]) -> TagResult:
    assert _WORKER_MODEL is not None
    return tag_texts(_WORKER_MODEL, texts, **kwargs)


def _scored_chunks(
    chunks: Iterator[pd.DataFrame],
    model: ThemeModelDir,
    text_column: str,
    src: Path,
    info: TableInfo,
    writer: TableWriter,
    workers: int | None,
    **kwargs: Any,
) -> Iterator[tuple[pd.DataFrame, TagResult]]:
    """Chunks with their results, in input order; with ``workers`` > 1, chunks are scored in
    forked processes (the loaded model is shared copy-on-write), a bounded number in flight."""
    global _WORKER_MODEL
    first = next(chunks)
    tcol = _check_columns(first, model, text_column, src)
    if kwargs.get("explain") and {"explanations", "uitleg"} & {str(c) for c in first.columns}:
        raise InputError("input already has an 'explanations' or 'uitleg' column; tag the original file", path=src)
    if info.fmt == "csv" and info.delimiter:
        writer.delimiter = info.delimiter
    n_workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    if getattr(model.estimator, "parallel_inside", False):
        # an encoder already spreads over the cores (ONNX Runtime / torch thread pools), and
        # those pools do not survive a fork: one process
        n_workers = 1
    if n_workers <= 1 or len(first) < 1000 or "fork" not in mp.get_all_start_methods():
        yield first, tag_texts(model, first[tcol].tolist(), **kwargs)
        for chunk in chunks:
            yield chunk, tag_texts(model, chunk[tcol].tolist(), **kwargs)
        return
    # warm up before forking: spaCy's pipeline and the n-gram caches are then shared by every worker
    tag_texts(model, first[tcol].tolist()[:50], **kwargs)
    _WORKER_MODEL = model
    pending: deque[tuple[pd.DataFrame, list[Future[TagResult]]]] = deque()
    pool = ProcessPoolExecutor(
        n_workers, mp_context=mp.get_context("fork"), initializer=_worker_init, initargs=(os.getpid(),)
    )
    finished = False
    try:
        for chunk in itertools.chain([first], chunks):
            texts = chunk[tcol].tolist()
            # several jobs per chunk keep both workers busy to the end of a small file
            step = max(100, -(-len(texts) // (2 * n_workers)))
            jobs = [pool.submit(_worker_tag, texts[i : i + step], kwargs) for i in range(0, len(texts), step)]
            pending.append((chunk, jobs))
            while len(pending) > n_workers:
                done_chunk, futs = pending.popleft()
                yield done_chunk, concat_results([f.result() for f in futs])
        while pending:
            done_chunk, futs = pending.popleft()
            yield done_chunk, concat_results([f.result() for f in futs])
        finished = True
    finally:
        # an error, Ctrl-C/SIGTERM/SIGHUP (meldtekst.cli) or the caller closing this generator
        # early: the workers end before the caller removes the temp output
        _WORKER_MODEL = None
        if finished:
            pool.shutdown(wait=True)
        else:
            _stop_pool(pool)


class _NoProgress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _progress(src: Path, enabled: bool) -> Any:
    """A rich progress bar for files big enough to wait for (> ~2 MB)."""
    try:
        big = src.stat().st_size > 2_000_000
    except OSError:
        big = False
    if not (enabled and big):
        return _NoProgress()
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), transient=True)


def tag_frame(model: ThemeModelDir, df: pd.DataFrame, *, text_column: str = "tekst", **kwargs: Any) -> pd.DataFrame:
    """The Parquet/CSV-style output columns for a DataFrame (used by the pyfunc and Spark)."""
    result = tag_texts(model, df[text_column].tolist(), **kwargs)
    return _with_results(df, result, "table")
