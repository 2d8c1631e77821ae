"""SetFit-style contrastive tuning of multilingual-e5-small on CPU, then a logistic-regression head:
does tuning the pretrained body on our reports beat the frozen body (and `fast`)?

SetFit (Tunstall et al. 2022) tunes a sentence encoder on pairs of labelled examples — pairs that
share their labels pulled together, pairs that share none pushed apart (cosine-similarity loss) —
and then fits a simple head on the tuned embeddings; it is the reference recipe for a few hundred
labelled texts. Multi-label pairs here: "same" when the label sets overlap with Jaccard >= 0.5,
"different" when they share no theme. The `setfit` package is not used: it pins its own
sentence-transformers stack; this is its recipe in ~100 lines on the project's own e5 conversion.

Budget (2 CPU cores, no GPU lent to this task): `--steps` steps of 16 pairs at 128 tokens
(~5 s a step). Scored like every system in benchmark.py: thresholds from out-of-fold scores of the
training part, macro-F1 on test, and leave-one-writer-out with the body tuned again in every fold.

    python evaluation/setfit_cpu.py [--steps 48] [--skip-lowo]   # writes evaluation/results/setfit.json
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier
from transformers import AutoModel, AutoTokenizer

from meldtekst.basemodels import prepare_base_model
from meldtekst.evaluation import theme_metrics, tune_thresholds
from meldtekst.training import split_data
from meldtekst.validate import LabelledData, load_labelled

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "evaluation" / "results" / "setfit.json"
SEED = 13
PREFIX = "query: "


def pairs(y: np.ndarray, n: int, rng: np.random.Generator) -> list[tuple[int, int, float]]:
    """``n`` pairs, half "same" (Jaccard >= 0.5) and half "different" (no shared theme)."""
    inter = y @ y.T
    union = y.sum(1)[:, None] + y.sum(1)[None, :] - inter
    jac = np.divide(inter, union, out=np.zeros_like(inter, dtype=float), where=union > 0)
    np.fill_diagonal(jac, -1)
    same = np.argwhere(jac >= 0.5)
    diff = np.argwhere((jac == 0) & (y.sum(1)[:, None] > 0) & (y.sum(1)[None, :] > 0))
    half = n // 2
    pos = same[rng.choice(len(same), size=half, replace=len(same) < half)]
    neg = diff[rng.choice(len(diff), size=n - half, replace=len(diff) < n - half)]
    out = [(int(a), int(b), 1.0) for a, b in pos] + [(int(a), int(b), 0.0) for a, b in neg]
    rng.shuffle(out)
    return out


def mean_pool(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


def tune(path: str, texts: list[str], y: np.ndarray, steps: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path)
    if steps == 0:
        return model.eval()
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5)
    rng = np.random.default_rng(seed)
    chosen = pairs(y, 16 * steps, rng)
    for step in range(steps):
        batch = chosen[step * 16 : (step + 1) * 16]
        enc = tok(
            [PREFIX + texts[a] for a, _, _ in batch] + [PREFIX + texts[b] for _, b, _ in batch],
            padding=True,
            truncation=True,
            max_length=128,
            return_tensors="pt",
        )
        emb = mean_pool(model, enc)
        cos = (emb[:16] * emb[16:]).sum(-1)
        loss = torch.nn.functional.mse_loss(cos, torch.tensor([t for _, _, t in batch]))
        loss.backward()
        opt.step()
        opt.zero_grad()
        if step % 12 == 0:
            print(f"    step {step}/{steps} loss {loss.item():.3f}", flush=True)
    return model.eval()


@torch.inference_mode()
def embed(path: str, model: torch.nn.Module, texts: list[str]) -> np.ndarray:
    tok = AutoTokenizer.from_pretrained(path)
    order = np.argsort([len(t) for t in texts])
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    for i in range(0, len(texts), 32):
        idx = order[i : i + 32]
        enc = tok([PREFIX + texts[j] for j in idx], padding=True, truncation=True, max_length=256, return_tensors="pt")
        out[idx] = mean_pool(model, enc).numpy()
    return out


def head(C: float = 4.0) -> OneVsRestClassifier:
    return OneVsRestClassifier(LogisticRegression(C=C, class_weight="balanced", solver="liblinear"))


def fit_head(X: np.ndarray, y: np.ndarray, folds: int) -> tuple[OneVsRestClassifier, np.ndarray]:
    """The head, with per-theme thresholds from out-of-fold scores (as every benchmark system)."""
    oof = np.zeros(y.shape, dtype=float)
    for tr, te in MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED).split(X, y):
        oof[te] = head().fit(X[tr], y[tr]).predict_proba(X[te])
    return head().fit(X, y), tune_thresholds(y, oof)


def run(path: str, train: LabelledData, held: LabelledData, steps: int, folds: int) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    model = tune(path, list(train.texts), train.y, steps, SEED)
    X_train, X_held = embed(path, model, list(train.texts)), embed(path, model, list(held.texts))
    clf, thr = fit_head(X_train, train.y, folds)
    return (clf.predict_proba(X_held) >= thr).astype(int), time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=48)
    ap.add_argument("--skip-lowo", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    path = str(prepare_base_model("e5-small", progress=False))
    data = load_labelled(ROOT / "data" / "meldingen.jsonl")
    train, _dev, test = split_data(data, SEED)
    assert test is not None
    result: dict = json.loads(OUT.read_text()) if OUT.is_file() else {}
    for name, steps in (
        ("frozen e5-small (same recipe, 0 steps)", 0),
        (f"SetFit-style e5-small ({args.steps} steps)", args.steps),
    ):
        entry = result.get(name, {})
        if "test_macro_f1" not in entry:
            print(f"== {name}: test", flush=True)
            pred, seconds = run(path, train, test, steps, 5)
            m = theme_metrics(test.y, pred, data.theme_ids)
            entry.update(
                test_macro_f1=round(m["macro_f1"], 4),
                test_micro_f1=round(m["micro_f1"], 4),
                train_seconds=round(seconds, 1),
            )
            print(f"   test macro {entry['test_macro_f1']:.3f} micro {entry['test_micro_f1']:.3f}", flush=True)
        if not args.skip_lowo and steps > 0:
            writers = data.frame["schrijver"].astype(str).to_numpy()
            lowo = entry.setdefault("lowo_macro_f1", {})
            for w in sorted(set(writers)):
                if w in lowo:
                    continue
                tr, held = data.subset(writers != w), data.subset(writers == w)
                pred, _ = run(path, tr, held, steps, 2)
                keep = held.y.sum(axis=0) >= 4
                lowo[w] = round(float(f1_score(held.y[:, keep], pred[:, keep], average="macro", zero_division=0)), 4)
                print(f"    LOWO {w}: {lowo[w]:.3f}", flush=True)
                result[name] = entry
                OUT.write_text(json.dumps(result, indent=2) + "\n")
            done = [v for k, v in lowo.items() if k != "mean"]
            lowo["mean"] = round(float(np.mean(done)), 4)
        entry["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        result[name] = entry
        OUT.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
