"""Frozen e5 sentence embeddings for classification features.

:class:`E5Embedder` turns texts into L2-normalised multilingual-e5 vectors the way the
model was trained to be used: every input gets the ``"query: "`` prefix (the e5 model
card's convention for symmetric tasks such as classification and clustering; ``"passage:
"`` is only for the document side of retrieval), token states are mean-pooled over the
attention mask, and the result is L2-normalised.  Texts longer than ``max_length`` are
split into overlapping windows that are pooled together instead of being truncated.

Two interchangeable backends: ``"torch"`` (fp32, reference) and ``"onnx-int8"`` (the same
network exported once to ONNX and dynamically quantised to int8, cached on disk; faster
and lighter on CPU, cosine ≈ 0.99 to fp32).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np

from meldtekst.basemodels import (
    BUILTIN_BASES,
    _one_line,
    _Steps,
    default_cache_dir,
    prepare_base_model,
    resolve_base_model,
)
from meldtekst.errors import ModelError

__all__ = ["Backend", "E5Embedder", "export_onnx"]

Backend = Literal["torch", "onnx-int8"]
ONNX_FORMAT_VERSION = 2  # bump when the exported graph changes, so caches are rebuilt
ONNX_OPSET = 17


class E5Embedder:
    """A frozen e5 encoder: ``embed(texts)`` -> float32 array ``(len(texts), dim)``, rows unit-norm.

    ``model`` is a built-in base name (prepared offline on first use, see
    :mod:`meldtekst.basemodels`), a local transformers directory, or a hub id.
    ``max_length`` counts all tokens of one window (``<s>``, prefix, text, ``</s>``);
    consecutive windows share ``overlap`` text tokens so no sentence is only seen cut in
    half.  Window vectors (mean-pooled, not yet normalised) are averaged weighted by the
    number of new text tokens each contributes, which for texts that fit one window is
    exactly e5's plain mean pooling.  Windows of all texts are sorted by length before
    batching, so padding stays small.  ``num_threads`` defaults to the torch thread count,
    so ``torch.set_num_threads`` is respected (torch: at each call; onnx-int8: when the
    embedder is created).

    ``batch_size`` defaults to 32 for torch and 1 for onnx-int8: dynamic int8 quantisation
    scales activations per batch, so in a batch a text's vector shifts slightly with its
    batch mates (cosine ~0.996); one window per run keeps every vector a function of its
    text alone, at about the same speed for ~250-token texts.

    ``layers`` keeps only the first N transformer layers (transformers' own
    ``num_hidden_layers`` override; the rest of the weights are not loaded): half the
    layers is about twice the speed, at a cost in quality (`accurate` with 8 of e5-small's
    12 layers: leave-one-writer-out macro-F1 0.831 instead of 0.836;
    ``evaluation/encoder_variants.py``).
    """

    def __init__(
        self,
        model: str | Path = "e5-small",
        *,
        backend: Backend = "torch",
        max_length: int = 256,
        overlap: int = 32,
        batch_size: int | None = None,
        prefix: str = "query: ",
        layers: int | None = None,
        num_threads: int | None = None,
        cache_dir: str | Path | None = None,
        progress: bool = True,
    ) -> None:
        if backend not in ("torch", "onnx-int8"):
            raise ValueError(f"backend must be 'torch' or 'onnx-int8', not {backend!r}")
        if batch_size is None:
            batch_size = 32 if backend == "torch" else 1
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.backend: Backend = backend
        self.prefix = prefix
        self.batch_size = batch_size
        self.num_threads = num_threads
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self.progress = progress
        if str(model) in BUILTIN_BASES:  # prepare into the same cache as the ONNX export
            self.model_ref = str(prepare_base_model(str(model), self.cache_dir, progress=progress))
        else:
            self.model_ref = resolve_base_model(str(model))
        self.config, self.tokenizer, specials = _config_and_tokenizer(self.model_ref)
        self.dim: int = int(self.config["hidden_size"])
        depth = int(self.config.get("num_hidden_layers") or 0)
        if layers is not None and not 1 <= layers <= depth:
            raise ValueError(f"layers must be between 1 and {depth} for {self.model_ref}, got {layers}")
        self.layers = None if layers == depth else layers

        limit = int(self.config.get("max_position_embeddings") or 512)
        self._prefix_ids: list[int] = self.token_ids([prefix.rstrip()])[0]
        room = max_length - 2 - len(self._prefix_ids)
        if not 0 < max_length <= limit or room < 1:
            raise ValueError(f"max_length must leave room for text and be at most {limit}, got {max_length}")
        if not 0 <= overlap < room:
            raise ValueError(f"overlap must be in [0, {room}) for max_length {max_length}, got {overlap}")
        self.max_length = max_length
        self.overlap = overlap
        self._room = room
        self._bos, self._eos, self._pad = specials

        self._torch_model: Any = None
        self._session: Any = None
        if backend == "torch":
            self._torch_model = _load_pooled_encoder(self.model_ref, layers=self.layers)
        else:
            self.onnx_path = self._ensure_onnx_int8()
            self._session = self._open_session(self.onnx_path)

    # ----------------------------------------------------------------- public

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; returns float32 ``(len(texts), dim)`` with L2-normalised rows."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a list of texts, not a single string")
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        weight = np.zeros(len(texts), dtype=np.float64)
        windows = [(i, w, ids) for i, per_text in enumerate(self.windows_of(texts)) for w, ids in per_text]
        windows.sort(key=lambda item: len(item[2]), reverse=True)
        for start in range(0, len(windows), self.batch_size):
            chunk = windows[start : start + self.batch_size]
            width = len(chunk[0][2])
            ids = np.full((len(chunk), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, (_, _, seq) in enumerate(chunk):
                ids[row, : len(seq)] = seq
                mask[row, : len(seq)] = 1
            pooled = self._forward(ids, mask)
            for row, (i, w, _) in enumerate(chunk):
                out[i] += w * pooled[row]
                weight[i] += w
        out /= np.maximum(weight, 1e-12)[:, None]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out.astype(np.float32)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, no special tokens (the tokenizer's batch call, in Rust)."""
        return [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def windows(self, text: str) -> list[tuple[float, list[int]]]:
        """The model inputs for one text: ``(weight, token ids)`` per window, specials included."""
        return self.windows_of([text])[0]

    def windows_of(self, texts: Sequence[str]) -> list[list[tuple[float, list[int]]]]:
        n = len(self._prefix_ids)
        prefixed = self.token_ids([self.prefix + t for t in texts])
        return [
            self._split(ids[n:] if ids[:n] == self._prefix_ids else self._body(t))
            for ids, t in zip(prefixed, texts, strict=True)
        ]

    def _body(self, text: str) -> list[int]:
        """A prefix that merges with the text: tokenise the parts separately."""
        return self.token_ids([text])[0]

    def _split(self, body: list[int]) -> list[tuple[float, list[int]]]:
        head = [self._bos, *self._prefix_ids]
        if len(body) <= self._room:
            return [(float(max(len(body), 1)), [*head, *body, self._eos])]
        step = self._room - self.overlap
        result: list[tuple[float, list[int]]] = []
        start = 0
        while True:
            end = min(start + self._room, len(body))
            new_tokens = end - (start + self.overlap if start else 0)
            result.append((float(new_tokens), [*head, *body[start:end], self._eos]))
            if end == len(body):
                return result
            start += step

    # --------------------------------------------------------------- backends

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean-pooled (unnormalised) last hidden states, one row per window."""
        if self._session is not None:
            (pooled,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
            return np.asarray(pooled, dtype=np.float64)
        import torch

        previous = torch.get_num_threads()
        if self.num_threads:
            torch.set_num_threads(self.num_threads)
        try:
            with torch.inference_mode():
                pooled = self._torch_model(torch.from_numpy(ids), torch.from_numpy(mask))
        finally:
            if self.num_threads:
                torch.set_num_threads(previous)
        return pooled.double().numpy()

    def _open_session(self, path: Path) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.num_threads or _default_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def _fingerprint(self) -> str:
        """Identifies the weights an ONNX export was made from (name, config, weight files)."""
        depth = f"|layers={self.layers}" if self.layers else ""  # absent for all layers: old caches stay valid
        digest = hashlib.sha256(f"onnx-v{ONNX_FORMAT_VERSION}|{self.model_ref}{depth}".encode())
        digest.update(json.dumps(self.config, sort_keys=True, default=str).encode())
        local = Path(self.model_ref)
        if local.is_dir():
            for f in sorted(local.glob("*.safetensors")) + sorted(local.glob("*.bin")):
                st = f.stat()
                digest.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
        return digest.hexdigest()[:16]

    def _ensure_onnx_int8(self) -> Path:
        """Export to ONNX and quantise once; later runs reuse ``<cache>/onnx/<model>-<fingerprint>``."""
        name = Path(self.model_ref.rstrip("/\\")).name or "model"
        if self.layers:
            name += f"-l{self.layers}"
        final = self.cache_dir / "onnx" / f"{name}-{self._fingerprint()}"
        target = final / "model-int8.onnx"
        if (final / "meta.json").is_file() and target.is_file():
            return target
        try:
            import onnx  # noqa: F401 - torch.onnx.export and the quantiser need it
            from onnxruntime.quantization import QuantType, quantize_dynamic
        except ImportError:
            raise ModelError("the onnx-int8 backend needs the packages onnx and onnxruntime") from None
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
            tmp.chmod(0o755)
        except OSError as exc:
            where = exc.filename or final.parent
            raise ModelError(
                _one_line(
                    f"cannot write the ONNX cache at {where}: {exc.strerror or exc} "
                    "(set MELDTEKST_CACHE to a writable folder)"
                )
            ) from None
        try:
            with _Steps(self.progress, f"Exporting {name} to ONNX int8", total=2) as steps:
                with steps.step("exporting the fp32 graph"):
                    _export_onnx(self.model_ref, tmp / "model-fp32.onnx", layers=self.layers)
                with steps.step("quantising weights to int8"):
                    # Per-channel scales keep cosine to fp32 at ~0.995 (per-tensor: ~0.985);
                    # 7-bit weights (reduce_range) avoid int16 saturation on x86 CPUs without
                    # VNNI, at a cost of ~0.001 cosine on CPUs that have it.
                    with _quiet_root_logger():  # "consider pre-processing" advice, not actionable
                        quantize_dynamic(
                            tmp / "model-fp32.onnx",
                            tmp / "model-int8.onnx",
                            weight_type=QuantType.QInt8,
                            per_channel=True,
                            reduce_range=True,
                        )
                    for f in tmp.iterdir():
                        if f.name != "model-int8.onnx":
                            f.unlink()
                meta = {
                    "source": self.model_ref,
                    "layers": self.layers,
                    "format_version": ONNX_FORMAT_VERSION,
                    "opset": ONNX_OPSET,
                }
                (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
            try:
                tmp.rename(final)
            except OSError:
                if not (final / "meta.json").is_file():  # not a lost race: replace a partial dir
                    shutil.rmtree(final, ignore_errors=True)
                    tmp.rename(final)
        except OSError as exc:
            raise ModelError(_one_line(f"cannot write the ONNX cache at {final}: {exc.strerror or exc}")) from None
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return target


def _default_threads() -> int:
    """torch's thread count when torch is loaded (so ``torch.set_num_threads`` is respected),
    else the cores this process may use; importing torch just to ask would cost a second."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return int(torch.get_num_threads())
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _config_and_tokenizer(model_ref: str) -> tuple[dict[str, Any], Any, tuple[int, int, int]]:
    """(config dict, `tokenizers.Tokenizer`, (cls, sep, pad) ids) of a model.

    A local transformers directory is read directly (``config.json``, ``tokenizer.json``):
    importing transformers costs ~2 s of start-up, which the ONNX backend does not need
    otherwise. Anything else (a hub id, a directory without ``tokenizer.json``) goes through
    transformers' Auto classes."""
    local = Path(model_ref)
    try:
        if (local / "config.json").is_file() and (local / "tokenizer.json").is_file():
            from tokenizers import Tokenizer

            config = json.loads((local / "config.json").read_text(encoding="utf-8"))
            tokenizer = Tokenizer.from_file(str(local / "tokenizer.json"))
            names = _special_token_names(local)
            ids = [tokenizer.token_to_id(names[k]) if names.get(k) else None for k in ("cls", "sep", "pad")]
            if all(i is not None for i in ids):
                return config, tokenizer, (int(ids[0]), int(ids[1]), int(ids[2]))
        from transformers import AutoConfig, AutoTokenizer

        auto = AutoTokenizer.from_pretrained(model_ref)
        if not getattr(auto, "is_fast", False):
            raise ModelError(f"the model '{model_ref}' has no fast (tokenizers) tokenizer, which meldtekst needs")
        config = AutoConfig.from_pretrained(model_ref).to_dict()
        return config, auto.backend_tokenizer, (auto.cls_token_id, auto.sep_token_id, auto.pad_token_id)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(_one_line(f"cannot load the model '{model_ref}': {exc}")) from None


def _special_token_names(local: Path) -> dict[str, str]:
    """cls/sep/pad token strings from ``special_tokens_map.json`` or ``tokenizer_config.json``."""
    names: dict[str, str] = {}
    for file in ("tokenizer_config.json", "special_tokens_map.json"):  # the latter wins
        path = local / file
        if not path.is_file():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in ("cls", "sep", "pad"):
            value = data.get(f"{key}_token")
            if isinstance(value, dict):
                value = value.get("content")
            if isinstance(value, str):
                names[key] = value
    return names


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _load_pooled_encoder(model_ref: str, *, attn_implementation: str | None = None, layers: int | None = None) -> Any:
    """The encoder (its first ``layers`` layers) wrapped so that it returns mean-pooled states;
    frozen, in eval mode."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    class MeanPooled(torch.nn.Module):
        """``encoder(ids, mask)`` -> masked mean of the last hidden states (B, H)."""

        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    kwargs: dict[str, Any] = {"attn_implementation": attn_implementation} if attn_implementation else {}
    if layers:
        kwargs["num_hidden_layers"] = layers
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "some weights were not used" is the point of dropping layers
    try:
        encoder = AutoModel.from_pretrained(model_ref, **kwargs)
    except OSError as exc:
        raise ModelError(_one_line(f"cannot load the model '{model_ref}': {exc}")) from None
    finally:
        hf_logging.set_verbosity(verbosity)
    module = MeanPooled(encoder).eval()
    module.requires_grad_(False)
    return module


def export_onnx(module: Any, path: Path, *, output_name: str = "mean_pooled") -> None:
    """TorchScript-based ONNX export of ``module(input_ids, attention_mask)`` with dynamic batch
    and sequence axes; one function so that the cached embedder graph and the speed benchmark
    (`evaluation/transformer_speed.py`) export alike."""
    import torch

    ids = torch.full((2, 16), 5, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0
    axes = {0: "batch", 1: "sequence"}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (ids, mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=[output_name],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, output_name: {0: "batch"}},
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def _export_onnx(model_ref: str, path: Path, *, layers: int | None = None) -> None:
    """The mean-pooled encoder of ``model_ref`` as ONNX (see `export_onnx`)."""
    export_onnx(_load_pooled_encoder(model_ref, attn_implementation="eager", layers=layers), path)
    if not path.is_file() or os.path.getsize(path) == 0:
        raise ModelError(f"ONNX export of '{model_ref}' produced no file")
