"""The transformer path end to end on a tiny random RoBERTa built here (no hub, no download):
train -> MLflow run -> register -> alias -> tag from the registry, the pyfunc, evaluate, and
no report text in the MLflow store.

The base model is 2 layers of width 32 with a byte-level BPE tokenizer (vocab 500) trained
on corpus texts; its scores are meaningless, the plumbing is what is tested.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("datasets")
pytest.importorskip("tokenizers")

from meldtekst.cli import app  # noqa: E402
from meldtekst.codebook import load_codebook  # noqa: E402
from meldtekst.errors import InputError  # noqa: E402
from meldtekst.models.store import load_model_dir  # noqa: E402
from meldtekst.models.transformer import TransformerThemeTagger, max_pool, resolve_base  # noqa: E402
from meldtekst.training import TrainConfig, build_estimator  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CANARY = "KANARIEPIET9T4X"
REGISTERED = "tiny-robbert"
runner = CliRunner()
TINY_CONFIG = {
    "kind": "transformer",
    "name": "tiny-robbert",
    "version": "1",
    "seed": 7,
    "model": {
        "max_length": 64,
        "stride": 16,
        "epochs": 2,
        "batch_size": 32,
        "predict_batch_size": 64,
        "learning_rate": 1.0e-3,
        "head_learning_rate": 3.0e-3,
        "early_stopping_patience": 1,
    },
}


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory, corpus_rows: list[dict]) -> Path:
    """A random RoBERTa and its tokenizer, trained on corpus texts that do not hold the canary."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizerFast

    out = tmp_path_factory.mktemp("tiny-base")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        [r["tekst"] for r in corpus_rows[:300]],
        vocab_size=500,
        min_frequency=2,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        show_progress=False,
    )
    bpe.save_model(str(out))
    tokenizer = RobertaTokenizerFast(
        vocab_file=str(out / "vocab.json"), merges_file=str(out / "merges.txt"), model_max_length=128
    )
    tokenizer.save_pretrained(str(out))
    torch.manual_seed(0)
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=130,
    )
    RobertaModel(config).save_pretrained(str(out))
    assert CANARY.lower() not in (out / "vocab.json").read_text().lower()
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, corpus_rows: list[dict]) -> Path:
    """150 train / 40 dev / 30 test corpus reports; the first training report carries the canary."""
    rows = [r for r in corpus_rows if r["split"] == "train"][:150]
    rows += [r for r in corpus_rows if r["split"] == "dev"][:40]
    rows += [r for r in corpus_rows if r["split"] == "test"][:30]
    rows = [dict(r) for r in rows]
    rows[0]["tekst"] += f" {CANARY} woonde in Valkenmoer."
    path = tmp_path_factory.mktemp("tiny-data") / "sample.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@dataclass
class Flow:
    work: Path
    store: Path
    model_dir: Path
    train_output: dict
    run_id: str


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory, tiny_base: Path, sample: Path):
    """`meldtekst train --register` into a fresh SQLite MLflow store, kept for the module's tests."""
    import mlflow
    import yaml

    work = tmp_path_factory.mktemp("flow")
    store = work / "store"
    uri = f"sqlite:///{store}.db"
    config = work / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY_CONFIG), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mlflow.set_tracking_uri(uri)
        mlflow.create_experiment("tiny", artifact_location=str(store / "artifacts"))
        r = runner.invoke(
            app,
            [
                "train",
                str(sample),
                "--config",
                str(config),
                "--base-model",
                str(tiny_base),
                "--output",
                str(work / "model"),
                "--experiment",
                "tiny",
                "--register",
                REGISTERED,
            ],
        )
        assert r.exit_code == 0, r.output
        out = json.loads(r.stdout.strip().splitlines()[-1])
        yield Flow(work=work, store=store, model_dir=work / "model", train_output=out, run_id=out["run_id"])


def test_model_dir_is_safetensors_with_card(flow: Flow):
    names = {p.name for p in flow.model_dir.iterdir()}
    assert {"meta.json", "README.md", "config.json", "model.safetensors", "tokenizer.json"} <= names
    assert "meldtekst_transformer.json" in names
    assert not any(n.endswith((".bin", ".pkl", ".pt", ".skops")) for n in names)
    meta = json.loads((flow.model_dir / "meta.json").read_text())
    assert meta["kind"] == "transformer" and len(meta["thresholds"]) == 22
    assert meta["epochs"]["best"] in (1, 2) and [h["epoch"] for h in meta["epochs"]["history"]] == [1, 2]
    assert "kept epoch" in (flow.model_dir / "README.md").read_text()
    # the saved model is the kept epoch: its dev macro-F1 (thresholds tuned on dev) is that epoch's
    kept = meta["epochs"]["history"][meta["epochs"]["best"] - 1]
    assert meta["metrics"]["dev"]["macro_f1"] == pytest.approx(kept["dev_macro_f1_tuned"], abs=1e-6)
    hf_config = json.loads((flow.model_dir / "config.json").read_text())
    assert hf_config["problem_type"] == "multi_label_classification"
    assert list(hf_config["id2label"].values()) == list(load_codebook().ids)


def test_run_has_per_epoch_metrics_and_registered_version(flow: Flow, tiny_base: Path):
    import mlflow
    from mlflow import MlflowClient

    assert flow.train_output["registered"] == {"name": REGISTERED, "version": "1"}
    run = mlflow.get_run(flow.run_id)
    assert run.data.params["model.base_model"] == str(tiny_base)
    assert {"dev_macro_f1", "test_macro_f1", "best_epoch", "epoch/loss", "epoch/dev_macro_f1"} <= set(run.data.metrics)
    client = MlflowClient()
    for key in ("epoch/loss", "epoch/dev_loss", "epoch/dev_macro_f1", "epoch/dev_macro_f1_tuned"):
        assert [m.step for m in client.get_metric_history(flow.run_id, key)] == [1, 2], key
    assert client.get_model_version(REGISTERED, "1").run_id == flow.run_id


def test_alias_then_tag_from_registry(flow: Flow, tmp_path: Path):
    r = runner.invoke(app, ["registry", "alias", REGISTERED, "production", "1"])
    assert r.exit_code == 0, r.output
    assert f"models:/{REGISTERED}@production -> version 1" in r.output
    listed = json.loads(runner.invoke(app, ["registry", "list", "--json"]).stdout)
    assert listed[0]["name"] == REGISTERED and listed[0]["aliases"] == ["production"]
    assert REGISTERED in runner.invoke(app, ["registry", "list"]).stdout

    src = tmp_path / "in.csv"
    pd.DataFrame(
        {
            "id": ["a1", "a2", "a3"],
            "tekst": [
                "Onze zoon zit sinds de herfstvakantie thuis. De school zegt handelingsverlegen te zijn.",
                "",
                "De school dreigde met een melding bij Veilig Thuis als we niet meewerkten. " * 12,
            ],
            "extra": ["x", "y", "z"],
        }
    ).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["tag", str(src), "-o", str(out), "--model", f"models:/{REGISTERED}@production"])
    assert r.exit_code == 0, r.output
    tagged = pd.read_csv(out, dtype=str, keep_default_na=False)
    ids = list(load_codebook().ids)
    expected = ["id", "tekst", "extra", *ids, "themes", *[f"score_{t}" for t in ids], "evidence", "needs_review"]
    assert list(tagged.columns) == expected
    assert tagged["id"].tolist() == ["a1", "a2", "a3"] and tagged["extra"].tolist() == ["x", "y", "z"]
    scores = tagged[[f"score_{t}" for t in ids]].astype(float).to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all()
    assert (scores[1] == 0).all() and tagged.loc[1, "themes"] == ""  # empty text: kept, no themes
    assert scores[0].max() > 0 and scores[2].max() > 0


def test_pyfunc_in_process_matches_model_dir(flow: Flow):
    import mlflow

    texts = ["Mijn dochter zit al maanden thuis en leerplicht dreigt met een proces-verbaal.", "Geen probleem."]
    pyfunc = mlflow.pyfunc.load_model(f"models:/{REGISTERED}/1")
    out = pyfunc.predict(pd.DataFrame({"tekst": texts}))
    ids = list(load_codebook().ids)
    assert len(out) == 2 and "tekst" not in out.columns
    assert set(ids) <= set(out.columns) and {"themes", "evidence", "needs_review"} <= set(out.columns)
    local = load_model_dir(flow.model_dir).predict_proba(texts)
    np.testing.assert_allclose(out[[f"score_{t}" for t in ids]].to_numpy(dtype=float), local, atol=1e-4)


def test_evaluate_transformer_dir(flow: Flow, sample: Path, tmp_path: Path):
    metrics = tmp_path / "m.json"
    r = runner.invoke(app, ["evaluate", str(sample), "--model", str(flow.model_dir), "--json", str(metrics)])
    assert r.exit_code == 0, r.output
    assert "macro-F1" in r.stdout
    m = json.loads(metrics.read_text())
    assert len(m["per_theme"]) == 22 and 0 <= m["macro_f1"] <= 1


def test_registry_mistakes_are_one_line(flow: Flow, tmp_path: Path):
    src = tmp_path / "in.csv"
    src.write_text("id,tekst\n1,hallo\n", encoding="utf-8")
    for args in (
        ["tag", str(src), "-o", str(tmp_path / "o.csv"), "--model", "models:/bestaat-niet@production"],
        ["tag", str(src), "-o", str(tmp_path / "o.csv"), "--model", f"models:/{REGISTERED}@staging"],
        ["registry", "alias", REGISTERED, "production", "99"],
    ):
        r = runner.invoke(app, args)
        assert r.exit_code == 1, (args, r.output)
        lines = [line for line in r.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error:"), (args, r.output)
    assert not (tmp_path / "o.csv").exists()


def test_mlflow_store_has_no_report_text(flow: Flow, sample: Path):
    assert CANARY in sample.read_text(encoding="utf-8")  # the canary did go into training
    files = [Path(f"{flow.store}.db"), *(p for p in flow.store.rglob("*") if p.is_file())]
    names = {p.name for p in files}
    assert {"model.safetensors", "tokenizer.json", "meta.json", "MLmodel"} <= names  # model and pyfunc logged
    found = []
    for path in files:
        blobs = [path.read_bytes()]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                blobs += [z.read(n) for n in z.namelist()]
        if any(CANARY.encode() in b or CANARY.lower().encode() in b for b in blobs):
            found.append(path)
    assert not found, found


def test_windows_are_max_pooled(flow: Flow):
    est = load_model_dir(flow.model_dir).estimator
    long_text = "Sinds de zomer zit mijn zoon thuis en de school doet niets. " * 20
    logits, owners = est.window_logits(["Kort.", long_text])
    assert (owners == 0).sum() == 1 and (owners == 1).sum() > 3
    assert len(est.encode_windows([long_text])[0]["input_ids"][1]) <= 64
    proba = est.predict_proba(["Kort.", long_text])
    np.testing.assert_allclose(proba, 1 / (1 + np.exp(-max_pool(logits, owners, 2))), rtol=1e-6)
    np.testing.assert_allclose(proba[1], 1 / (1 + np.exp(-logits[owners == 1].max(axis=0))), rtol=1e-6)
    assert est.predict_proba([]).shape == (0, 22)


def test_shipped_configs_build(tiny_base: Path):
    for name, base in (
        ("robbert-2023-base", "DTAI-KULeuven/robbert-2023-dutch-base"),
        ("robbertje", "DTAI-KULeuven/robbertje-1-gb-non-shuffled"),
        ("e5-small", "e5-small"),
    ):
        cfg = TrainConfig.from_yaml(ROOT / "training" / "configs" / f"{name}.yaml")
        est = build_estimator(cfg)
        assert isinstance(est, TransformerThemeTagger) and est.base_model == base
        assert isinstance(est.learning_rate, float) and isinstance(est.head_learning_rate, float)
    with pytest.raises(InputError, match="unknown transformer model parameter"):
        build_estimator(TrainConfig(kind="transformer", model={"lerning_rate": 1.0}))
    bad = TransformerThemeTagger(base_model=str(tiny_base), max_length=32, stride=40)
    with pytest.raises(InputError, match="stride"):
        bad.fit(["a b c"] * 4, np.ones((4, 22), dtype=int))


def test_base_model_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import sys
    import types

    assert resolve_base(str(tmp_path)) == str(tmp_path)
    fake = types.ModuleType("meldtekst.basemodels")
    fake.resolve_base_model = lambda name: f"/cache/{name}" if name == "e5-small" else name  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "meldtekst.basemodels", fake)
    assert resolve_base("e5-small") == "/cache/e5-small"
    assert resolve_base("DTAI-KULeuven/robbert-2023-dutch-base") == "DTAI-KULeuven/robbert-2023-dutch-base"
    monkeypatch.setitem(sys.modules, "meldtekst.basemodels", None)  # module absent: names pass through
    assert resolve_base("e5-small") == "e5-small"


def test_unreachable_base_model_is_one_line(sample: Path, tmp_path: Path):
    import yaml

    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(TINY_CONFIG), encoding="utf-8")
    args = ["train", str(sample), "-c", str(config), "-o", str(tmp_path / "m"), "--no-track"]
    r = runner.invoke(app, [*args, "--base-model", "bestaat-niet/geen-model"])
    assert r.exit_code == 1
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "base model 'bestaat-niet/geen-model' cannot be loaded" in lines[0], r.output
