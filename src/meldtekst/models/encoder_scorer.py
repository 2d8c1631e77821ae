"""The `accurate` model at tagging time, from learnt arrays: the fast model's scorer for the
sparse word/char/codebook features plus one dense weight block for the encoder's embedding.

Loading a model therefore needs neither scikit-learn nor skops (whose import alone cost ~2 s
of start-up, most of it scikit-learn discovering its estimators and importing torch), and
the files are JSON and ``.npz``, which cannot run code when read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from meldtekst.models.linear_scorer import LinearScorer
from meldtekst.text import Sentence

__all__ = ["HEAD_NPZ", "STATE_JSON", "EncoderScorer"]

STATE_JSON = "encoder.json"
HEAD_NPZ = "encoder_head.npz"
FORMAT = 1


class EncoderScorer:
    """``sigmoid(sparse features @ W_s + embedding_weight * embedding @ W_d + b)`` per theme.

    ``linear`` carries the sparse features and the head's sparse weights and intercepts;
    ``dense_coef`` (themes x encoder dimension) weighs the L2-normalised report embedding.
    The encoder is opened on first use with the settings it was trained with.
    """

    STATE_FILE = STATE_JSON  # its presence marks a directory in this format

    parallel_inside = True  # the encoder's own threads use the cores: `tag` runs one process

    def __init__(
        self,
        *,
        linear: LinearScorer,
        dense_coef: np.ndarray,
        embedding_weight: float,
        base_model: str,
        backend: str,
        max_length: int,
        layers: int | None = None,
    ) -> None:
        self.linear = linear
        self.dense_coef = np.asarray(dense_coef, dtype=np.float64)
        self.embedding_weight = float(embedding_weight)
        self.base_model = base_model
        self.backend = backend
        self.max_length = int(max_length)
        self.layers = layers
        self._embedder: Any = None

    @property
    def n_outputs(self) -> int:
        return self.linear.n_outputs

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._embedder is None:
            from meldtekst.embedding import E5Embedder

            self._embedder = E5Embedder(
                self.base_model,
                backend=self.backend,  # type: ignore[arg-type]
                max_length=self.max_length,
                layers=self.layers,
                progress=False,
            )
        texts = list(texts)
        unique = list(dict.fromkeys(texts))  # a report sent twice is encoded once
        if len(unique) == len(texts):
            return self._embedder.embed(texts)
        vectors = self._embedder.embed(unique)
        row = {t: i for i, t in enumerate(unique)}
        return vectors[[row[t] for t in texts]]

    def proba(self, X: Any, embeddings: np.ndarray) -> np.ndarray:
        dense = np.asarray(embeddings, dtype=np.float64) @ self.dense_coef.T
        z = self.linear.decision(X) + self.embedding_weight * dense
        return 1.0 / (1.0 + np.exp(-z))

    def predict_proba(self, texts: Sequence[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        texts = list(texts)
        emb = self.embed(texts) if embeddings is None else embeddings
        return self.proba(self.linear.transform(texts), emb)

    def transform(self, texts: Sequence[str]) -> Any:
        """The sparse features (what `meldtekst suggest` compares reports by)."""
        return self.linear.transform(list(texts))

    def predict_with_sentences(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None
    ) -> tuple[np.ndarray, list[list[Sentence]], np.ndarray]:
        """Report probabilities, and per sentence the head's score from its words alone.

        Embedding every sentence would cost the encoder once per sentence; ranking sentences
        by the word features' contribution to the same head is exact for that part of the
        model and needs no second pass.
        """
        texts = list(texts)
        Xd, per_doc, sent_blocks = self.linear.features(texts)
        emb = self.embed(texts) if embeddings is None else embeddings
        doc_proba = self.proba(Xd, emb)
        if not sent_blocks:
            return doc_proba, per_doc, np.zeros((0, self.n_outputs))
        sent_scores = np.asarray(self.linear.weigh(sent_blocks) @ self.linear.coef.T, dtype=np.float64)
        return doc_proba, per_doc, sent_scores

    # ------------------------------------------------------------- persistence

    def save(self, path: Path) -> None:
        self.linear.save(path)
        state = {
            "format": FORMAT,
            "base_model": self.base_model,
            "backend": self.backend,
            "max_length": self.max_length,
            "layers": self.layers,
            "embedding_weight": self.embedding_weight,
        }
        (path / STATE_JSON).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        with (path / HEAD_NPZ).open("wb") as fh:
            np.savez_compressed(fh, dense_coef=self.dense_coef)

    @classmethod
    def load(cls, path: Path) -> EncoderScorer:
        state = json.loads((path / STATE_JSON).read_text(encoding="utf-8"))
        if state.get("format") != FORMAT:
            raise ValueError(f"unknown encoder model format {state.get('format')!r}")
        with np.load(path / HEAD_NPZ, allow_pickle=False) as arrays:
            dense = arrays["dense_coef"]
        return cls(
            linear=LinearScorer.load(path),
            dense_coef=dense,
            embedding_weight=state["embedding_weight"],
            base_model=state["base_model"],
            backend=state["backend"],
            max_length=state["max_length"],
            layers=state.get("layers"),
        )


def _register() -> None:
    from meldtekst.models.store import register_array_kind

    register_array_kind("encoder", lambda: EncoderScorer)


_register()
