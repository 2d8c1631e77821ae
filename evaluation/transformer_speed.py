"""CPU tagging speed of a RobBERT-2023-base-sized tagger: torch fp32 against ONNX Runtime, side by side.

Speed does not depend on the weights, so the model is a RoBERTa with RobBERT-2023 base's
dimensions (12 layers, hidden 768, 12 heads, FFN 3072, vocabulary 50,000) and random
weights, which needs no download. The tokenizer is a byte-level BPE trained here on the
corpus' train split (RobBERT's own is not available offline); it is fitted to the corpus'
style, so it may cut reports into somewhat fewer tokens than RobBERT's tokenizer would,
and the token counts are printed to compare. Test-split reports are tagged by the same
`TransformerThemeTagger` code the CLI uses (windows of ``--max-length`` tokens, longest
first in batches, max-pooled per report), in these variants, one after another inside
each of ``--runs`` rounds, so that load from other processes hits them alike:

- ``torch-fp32``      ``predict_proba``: scores only;
- ``torch-fp32+evidence``  ``tag_texts``: scores plus the evidence pass over sentences,
  i.e. what ``meldtekst tag`` does;
- ``onnx-fp32``       the same windows and batches through ONNX Runtime (TorchScript export);
- ``onnx-int8``       that graph with dynamically quantised int8 weights.

Reported: median reports/s over the rounds (wall clock), CPU seconds per report (less
sensitive to other load on the machine; the load average is printed too), and the largest
probability difference from torch fp32. ``--train-steps N`` instead times N fine-tuning
steps (batch 16 x ``--max-length`` tokens, AdamW) and the process' peak memory, to ground
the training-time estimates in training/README.md.

    python evaluation/transformer_speed.py --threads 2 --runs 3 --reports 32
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "meldingen.jsonl"
ROBBERT_2023_BASE = {
    "vocab_size": 50_000,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": 514,
    "type_vocab_size": 1,
}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def corpus(split: str) -> list[str]:
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["tekst"] for r in rows if r.get("split") == split]


def build_model_dir(path: Path, max_length: int) -> None:
    """A random RobBERT-2023-base-sized classifier and a corpus-trained BPE tokenizer, saved as a base model."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaForSequenceClassification, RobertaTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        corpus("train"),
        vocab_size=ROBBERT_2023_BASE["vocab_size"],
        min_frequency=2,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        show_progress=False,
    )
    bpe.save_model(str(path))
    tokenizer = RobertaTokenizerFast(
        vocab_file=str(path / "vocab.json"), merges_file=str(path / "merges.txt"), model_max_length=512
    )
    tokenizer.save_pretrained(str(path))
    torch.manual_seed(0)
    config = RobertaConfig(**ROBBERT_2023_BASE, num_labels=22, problem_type="multi_label_classification")
    RobertaForSequenceClassification(config).save_pretrained(str(path))


def load_tagger(path: Path, max_length: int, stride: int, batch_size: int) -> Any:
    """The random model inside a meldtekst model (ThemeModelDir), loaded the way `meldtekst tag` loads one."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from meldtekst.codebook import load_codebook
    from meldtekst.models.store import ThemeModelDir
    from meldtekst.models.transformer import TransformerThemeTagger

    ids = load_codebook().ids
    est = TransformerThemeTagger(base_model=str(path), max_length=max_length, stride=stride)
    est.predict_batch_size = batch_size
    est.tokenizer_ = AutoTokenizer.from_pretrained(str(path))
    est.model_ = AutoModelForSequenceClassification.from_pretrained(str(path), attn_implementation="sdpa").eval()
    est.max_length_ = max_length
    est.theme_ids_ = ids
    est.n_outputs_ = len(ids)
    est.thresholds_ = np.full(len(ids), 0.5)
    torch.manual_seed(0)
    meta = {"kind": "transformer", "theme_ids": list(ids), "thresholds": dict.fromkeys(ids, 0.5), "review_band": 0.0}
    return ThemeModelDir(path=path, estimator=est, meta=meta)


def export_onnx(path: Path, out_dir: Path, *, int8: bool) -> dict[str, Path]:
    """TorchScript-based export of the logits (dynamic batch and length), plus an int8 copy."""
    from transformers import AutoModelForSequenceClassification

    from meldtekst.embedding import export_onnx as export_graph

    model = AutoModelForSequenceClassification.from_pretrained(str(path), attn_implementation="eager").eval()
    fp32 = out_dir / "model-fp32.onnx"
    export_graph(model, fp32, output_name="logits")
    paths = {"onnx-fp32": fp32}
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        paths["onnx-int8"] = out_dir / "model-int8.onnx"
        root = logging.getLogger()
        level, root.level = root.level, logging.ERROR  # "consider pre-processing": not needed for a transformer
        try:
            quantize_dynamic(fp32, paths["onnx-int8"], weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
        finally:
            root.setLevel(level)
    return paths


def ort_session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def ort_proba(session: Any, est: Any, texts: list[str]) -> np.ndarray:
    """The tagger's own windows, batches and max-pooling, with ONNX Runtime computing the logits."""
    from scipy.special import expit

    from meldtekst.models.transformer import max_pool

    inputs, owners = est.encode_windows(texts)
    ids, masks = inputs["input_ids"], inputs["attention_mask"]
    out = np.zeros((len(ids), est.n_outputs_), dtype=np.float32)
    order = np.argsort([-len(row) for row in ids], kind="stable")
    pad = est.tokenizer_.pad_token_id
    for start in range(0, len(order), est.predict_batch_size):
        idx = order[start : start + est.predict_batch_size]
        width = max(len(ids[i]) for i in idx)
        batch_ids = np.full((len(idx), width), pad, dtype=np.int64)
        batch_mask = np.zeros((len(idx), width), dtype=np.int64)
        for row, i in enumerate(idx):
            batch_ids[row, : len(ids[i])] = ids[i]
            batch_mask[row, : len(masks[i])] = masks[i]
        (logits,) = session.run(["logits"], {"input_ids": batch_ids, "attention_mask": batch_mask})
        out[idx] = logits
    return expit(max_pool(out, owners, len(texts)))


def time_training(model_dir: Path, texts: list[str], steps: int, max_length: int) -> dict[str, float]:
    """Seconds per optimizer step (batch 16 full windows, AdamW) and peak RSS, on CPU."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).train()
    batch = tokenizer(texts[:16], truncation=True, max_length=max_length, padding="max_length", return_tensors="pt")
    labels = torch.zeros((16, 22))
    labels[:, :3] = 1
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-5)
    seconds = []
    for _ in range(steps + 1):  # the first step warms up kernels and allocates optimizer state
        start = time.perf_counter()
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        seconds.append(time.perf_counter() - start)
    return {
        "train_step_seconds_batch16": round(statistics.median(seconds[1:]), 2),
        "train_peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reports", type=int, default=32, help="test-split reports tagged per run")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--stride", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32, help="windows per forward pass (predict_batch_size)")
    parser.add_argument("--no-onnx", action="store_true", help="torch only")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8-quantised ONNX variant")
    parser.add_argument("--train-steps", type=int, default=0, help="instead: time N fine-tuning steps")
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from meldtekst.tagging import tag_texts

    torch.set_num_threads(args.threads)
    texts = corpus("test")[: args.reports]
    with tempfile.TemporaryDirectory(prefix="meldtekst-speed-") as tmp:
        model_dir = Path(tmp) / "model"
        model_dir.mkdir()
        build_model_dir(model_dir, args.max_length)
        if args.train_steps:  # on its own, so that the peak memory is training's
            training = time_training(model_dir, corpus("train"), args.train_steps, args.max_length)
            print(
                f"fine-tuning on CPU, {args.threads} threads: {training['train_step_seconds_batch16']} s per AdamW "
                f"step of 16 x {args.max_length} tokens, peak RSS {training['train_peak_rss_gib']} GiB"
            )
            if args.json:
                args.json.write_text(json.dumps(training, indent=2) + "\n", encoding="utf-8")
            return 0
        model = load_tagger(model_dir, args.max_length, args.stride, args.batch_size)
        est = model.estimator
        windows, owners = est.encode_windows(texts)
        tokens = sum(len(r) for r in windows["input_ids"])
        words = sum(len(t.split()) for t in texts)
        sessions = {}
        if not args.no_onnx:
            for name, path in export_onnx(model_dir, Path(tmp), int8=not args.no_int8).items():
                sessions[name] = ort_session(path, args.threads)

        variants: dict[str, Any] = {
            "torch-fp32": lambda: est.predict_proba(texts),
            "torch-fp32+evidence": lambda: tag_texts(model, texts).scores,
        }
        for name, session in sessions.items():
            variants[name] = lambda s=session: ort_proba(s, est, texts)
        for fn in variants.values():  # warm-up: kernels, allocations, ORT graph
            fn()
        reference = est.predict_proba(texts)
        times: dict[str, list[float]] = {name: [] for name in variants}
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        diffs: dict[str, float] = {}
        for _ in range(args.runs):
            for name, fn in variants.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                proba = fn()
                times[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
                diffs[name] = float(np.abs(np.asarray(proba) - reference).max())

    import onnxruntime
    import transformers

    base = statistics.median(times["torch-fp32"])
    result = {
        "machine": f"{cpu_name()}, {os.cpu_count()} CPUs visible, {args.threads} threads",
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
        "reports": len(texts),
        "words_per_report": round(words / len(texts), 1),
        "tokens_per_word": round((tokens - 2 * len(owners)) / words, 3),
        "windows": len(owners),
        "max_length": args.max_length,
        "stride": args.stride,
        "runs": args.runs,
        "variants": {
            name: {
                "reports_per_second_median": round(len(texts) / statistics.median(t), 2),
                "seconds_per_run": [round(x, 2) for x in t],
                "cpu_seconds_per_report_median": round(statistics.median(cpu[name]) / len(texts), 3),
                "speedup_vs_torch_fp32": round(base / statistics.median(t), 2),
                "max_abs_proba_diff_vs_torch_fp32": diffs[name],
            }
            for name, t in times.items()
        },
    }
    print(f"{result['machine']}; load average {result['load_average_1min_at_end']}")
    print(
        f"{len(texts)} test reports, {result['words_per_report']} words and {len(owners) / len(texts):.2f} windows "
        f"of <= {args.max_length} tokens per report ({result['tokens_per_word']} tokens/word), median of {args.runs}"
    )
    print(f"{'variant':<22} {'reports/s':>10} {'speed-up':>9} {'CPU s/report':>13} {'max |dp|':>10}")
    for name, v in result["variants"].items():
        print(
            f"{name:<22} {v['reports_per_second_median']:>10.2f} {v['speedup_vs_torch_fp32']:>8.2f}x "
            f"{v['cpu_seconds_per_report_median']:>13.3f} {v['max_abs_proba_diff_vs_torch_fp32']:>10.2e}"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    raise SystemExit(main())
