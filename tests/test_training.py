import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from meldtekst.errors import InputError
from meldtekst.models.store import load_model_dir
from meldtekst.training import TrainConfig, train


def test_model_dir_contents(tiny_model):
    names = {p.name for p in tiny_model.iterdir()}
    assert {"meta.json", "linear.json", "linear.npz", "README.md"} <= names
    assert not any(n.endswith((".pkl", ".pickle", ".joblib")) for n in names)
    meta = json.loads((tiny_model / "meta.json").read_text())
    assert meta["codebook_version"] == 1 and len(meta["thresholds"]) == 22
    assert len(meta["training_data"]["sha256"]) == 64
    assert "dev" in meta["metrics"] and "test" in meta["metrics"]


def test_same_data_and_seed_same_predictions(tmp_path, small_labelled, tiny_model, corpus_rows):
    cfg = TrainConfig(name="tiny", threshold_folds=2, model={"char_ngrams": [3, 4], "min_df": 3})
    out = train(small_labelled, cfg, tmp_path / "again", track=False).output
    texts = [r["tekst"] for r in corpus_rows[:30]]
    a, b = load_model_dir(tiny_model), load_model_dir(out)
    np.testing.assert_allclose(a.predict_proba(texts), b.predict_proba(texts))
    assert a.meta["thresholds"] == b.meta["thresholds"]


def test_too_few_positives(tmp_path):
    p = tmp_path / "few.jsonl"
    rows = [{"id": str(i), "tekst": f"tekst nummer {i}", "labels": ["autisme"] if i % 2 else []} for i in range(40)]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(InputError, match="too few positive"):
        train(p, TrainConfig(threshold_folds=2), tmp_path / "m", track=False)


def test_mlflow_run_has_no_report_text(tmp_path, small_labelled, monkeypatch):
    canary = "KANARIEPIET7Q3Z"
    rows = [json.loads(line) for line in small_labelled.read_text().splitlines()]
    rows[0]["tekst"] += f" {canary} woonde in Valkenmoer."
    data = tmp_path / "canary.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "store"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}.db")
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{store}.db")
    exp = mlflow.create_experiment("canary", artifact_location=str(store / "artifacts"))
    assert exp
    cfg = TrainConfig(name="canary", threshold_folds=2, model={"char_ngrams": [3, 4]})
    result = train(data, cfg, tmp_path / "m", experiment="canary")
    assert result.run_id
    run = mlflow.get_run(result.run_id)
    assert run.data.params["data_sha256"] == run.data.tags["data_sha256"]
    assert "test_macro_f1" in run.data.metrics and "train_count_autisme" in run.data.metrics
    found = []
    for path in [Path(f"{store}.db"), *store.rglob("*")]:
        if path.is_file():
            blobs = [path.read_bytes()]
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as z:
                    blobs += [z.read(n) for n in z.namelist()]
            if any(canary.encode() in b or canary.lower().encode() in b for b in blobs):
                found.append(path)
    assert not found, found
    assert os.listdir(store / "artifacts")


def test_code_version_marks_uncommitted_source(tmp_path, monkeypatch):
    """A model trained from edited source must not claim a commit that does not reproduce it."""
    import shutil
    import subprocess

    import meldtekst
    from meldtekst import training

    if shutil.which("git") is None:
        pytest.skip("git not installed")
    repo = tmp_path / "repo"
    pkg = repo / "src" / "meldtekst"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("x = 1\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    monkeypatch.setattr(meldtekst, "__file__", str(pkg / "__init__.py"))
    clean = training.git_commit()
    assert len(clean) == 40 and all(c in "0123456789abcdef" for c in clean)
    (pkg / "__init__.py").write_text("x = 2\n")
    assert training.git_commit() == clean + "+dirty"
    (repo / "notes.txt").write_text("untracked files elsewhere do not count\n")
    (pkg / "__init__.py").write_text("x = 1\n")
    assert training.git_commit() == clean


def test_fit_on_train_and_dev(tmp_path, small_labelled, tiny_model, monkeypatch):
    """After selection the final model may be fitted on train+dev: dev then gives no figures, the review
    rule comes from out-of-fold scores, and test reports are never fitted on."""
    from meldtekst.models.linear import LinearThemeTagger

    seen: list[int] = []
    real_fit = LinearThemeTagger.fit

    def spy(self, X, y):
        seen.append(len(list(X)))
        return real_fit(self, X, y)

    monkeypatch.setattr(LinearThemeTagger, "fit", spy)
    cfg = TrainConfig(name="tiny", threshold_folds=2, fit_on="train+dev", model={"char_ngrams": [3, 4], "min_df": 3})
    result = train(small_labelled, cfg, tmp_path / "all", track=False)
    meta = result.model.meta
    td = meta["training_data"]
    assert td["fit_on"] == "train+dev" and td["fitted_rows"] == td["train_rows"] + td["dev_rows"]
    assert seen[-1] == td["fitted_rows"] and max(seen) == td["fitted_rows"]  # folds and the final fit
    assert "dev" not in meta["metrics"] and "test" in meta["metrics"]
    assert meta["review_scored_on"].startswith("out-of-fold") and meta["review"]["cutoff"] > 0
    card = (result.output / "README.md").read_text()
    assert f"fitted on train+dev, {td['fitted_rows']} reports" in card
    # the default stays train-only, with dev figures
    assert json.loads((tiny_model / "meta.json").read_text())["training_data"]["fit_on"] == "train"
    with pytest.raises(InputError, match="fit_on must be"):
        train(small_labelled, TrainConfig(fit_on="everything"), tmp_path / "x", track=False)
    with pytest.raises(InputError, match="transformer keeps dev"):
        train(small_labelled, TrainConfig(kind="transformer", fit_on="train+dev"), tmp_path / "y", track=False)


def test_macro_f1_present_counts_only_themes_with_enough_positives():
    from meldtekst.evaluation import macro_f1_present

    y = np.array([[1, 0, 1], [1, 0, 0], [0, 0, 1], [1, 1, 0]])
    pred = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 1], [0, 1, 0]])
    # theme 0: P 1, R 2/3 -> F1 0.8; theme 2: P 1, R 1/2 -> F1 2/3; theme 1 has one positive: left out
    assert macro_f1_present(y, pred, 2) == pytest.approx((0.8 + 2 / 3) / 2)
    assert macro_f1_present(y, pred, 5) == 0.0
