"""End to end against a real Label Studio server: suggest -> Label Studio -> import -> train.

Label Studio (PyPI `label-studio`, pinned in tests/lsserver/support.py) is installed into
its own cached virtualenv on first use and started on 127.0.0.1 with a temporary data folder;
tests/lsserver/driver.py drives it through label-studio-sdk from that venv. Skips only when
PyPI cannot be reached to install it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lsserver import support
from meldtekst.cli import app
from meldtekst.codebook import load_codebook

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]
HERE = Path(__file__).resolve().parent
runner = CliRunner()


@pytest.fixture(scope="session")
def labelstudio_venv() -> Path:
    try:
        return support.ensure_venv()
    except support.RegistryUnreachable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def labelstudio_url(labelstudio_venv: Path, tmp_path_factory: pytest.TempPathFactory):
    with support.running_server(labelstudio_venv, tmp_path_factory.mktemp("labelstudio-data")) as url:
        yield url


def _cli(*args: str) -> dict:
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def test_round_trip_through_label_studio(
    labelstudio_venv, labelstudio_url, tmp_path, small_labelled, tiny_model, corpus_rows, monkeypatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    gold = {r["id"]: r["labels"] for r in corpus_rows}
    labelled_ids = {json.loads(x)["id"] for x in small_labelled.read_text(encoding="utf-8").splitlines()}
    pool = [
        {k: v for k, v in r.items() if k != "labels"}
        for r in corpus_rows
        if r["split"] == "train" and r["id"] not in labelled_ids
    ][:150]
    (tmp_path / "pool.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in pool))

    config, tasks, export = tmp_path / "config.xml", tmp_path / "tasks.json", tmp_path / "export.json"
    _cli("labelstudio", "config", "-o", str(config))
    summary = _cli(
        "suggest", str(tmp_path / "pool.jsonl"), "-n", "8", "-o", str(tasks), "--model", str(tiny_model),
        "--strategy", "diverse", "--exclude", str(small_labelled),
    )  # fmt: skip
    assert summary["suggested"] == 8
    ids = [t["data"]["id"] for t in json.loads(tasks.read_text())]

    anna, ben = "anna@example.org", "ben@example.org"
    extra = next(t for t in load_codebook().ids if t not in gold[ids[1]])
    plan: dict[str, dict] = {i: {anna: gold[i], ben: gold[i]} for i in ids[:6]}
    plan[ids[1]][ben] = [*gold[ids[1]], extra]  # ben adds a theme: a 1-1 tie
    plan[ids[6]] = {anna: gold[ids[6]], ben: "skip"}  # ben skips: cancelled, dropped and counted
    # ids[7]: nobody annotates it -> reported, not invented
    (tmp_path / "plan.json").write_text(json.dumps({"annotators": [anna, ben], "plan": plan}))
    driver = subprocess.run(
        [str(support.venv_python(labelstudio_venv)), str(HERE / "lsserver" / "driver.py"), labelstudio_url,
         support.ADMIN_TOKEN, str(config), str(tasks), str(export), str(tmp_path / "plan.json")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert driver.returncode == 0, driver.stderr[-3000:]
    drove = json.loads(driver.stdout.strip().splitlines()[-1])
    assert drove == {"project": drove["project"], "tasks": 8, "with_predictions": 8, "annotations": 14}

    new = tmp_path / "nieuw.jsonl"
    imported = _cli("labelstudio", "import", str(export), "-o", str(new))
    assert imported["rows_written"] == 7 and imported["cancelled_or_skipped"] == 1
    assert imported["unannotated_tasks"] == [ids[7]]
    assert imported["ties"] == [{"id": ids[1], "theme": extra}]
    assert sorted(imported["annotations_per_annotator"].values()) == [6, 7]  # Label Studio user ids of anna, ben
    rows = {json.loads(x)["id"]: json.loads(x) for x in new.read_text(encoding="utf-8").splitlines()}
    assert {i: r["labels"] for i, r in rows.items()} == {i: load_codebook().order(gold[i]) for i in ids[:7]}
    assert runner.invoke(app, ["validate", str(new)]).exit_code == 0

    per_annotator = _cli(
        "labelstudio", "import", str(export), "-o", str(tmp_path / "all.jsonl"), "--annotator-policy", "all"
    )
    assert per_annotator["rows_written"] == 13

    cfg = tmp_path / "tiny.yaml"
    cfg.write_text("kind: linear\nname: tiny\nthreshold_folds: 2\nmodel:\n  char_ngrams: [3, 4]\n  min_df: 3\n")
    before = _cli("train", str(small_labelled), "--config", str(cfg), "-o", str(tmp_path / "m1"))
    after = _cli("train", str(small_labelled), "--extra", str(new), "--config", str(cfg), "-o", str(tmp_path / "m2"))
    import mlflow

    client = mlflow.MlflowClient()
    h1 = client.get_run(before["run_id"]).data.tags["data_sha256"]
    h2 = client.get_run(after["run_id"]).data.tags["data_sha256"]
    assert h1 != h2
    meta = json.loads((tmp_path / "m2" / "meta.json").read_text())
    assert meta["training_data"]["rows"] == 380 + 7 and meta["training_data"]["added_ids"] == 7
