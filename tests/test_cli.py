import json
import os
import re
import shlex
import subprocess
import sys

import click
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from meldtekst.cli import app

runner = CliRunner()


def test_help_lists_commands():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for cmd in ("tag", "train", "evaluate", "validate", "codebook"):
        assert cmd in r.output


def test_codebook_json_has_22_ids():
    r = runner.invoke(app, ["codebook", "--format", "json"])
    assert r.exit_code == 0
    data = json.loads(r.output)
    assert len(data) == 22 and {"id", "group", "name", "definition"} <= set(data[0])


def test_validate_ok_and_error_exit_codes(tmp_path):
    good = tmp_path / "g.csv"
    good.write_text("id,tekst,labels\n1,hallo,autisme\n")
    assert runner.invoke(app, ["validate", str(good)]).exit_code == 0
    bad = tmp_path / "b.csv"
    bad.write_text("id,tekst,labels\n1,hallo,autisme\n2,hoi,bestaatniet\n")
    r = runner.invoke(app, ["validate", str(bad)])
    assert r.exit_code == 1
    assert "row 2" in r.output and "Traceback" not in r.output


def test_user_error_is_one_line_without_traceback(tmp_path):
    r = runner.invoke(app, ["tag", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "o.csv")])
    assert r.exit_code == 1
    assert r.output.strip().startswith("Error:") and "does not exist" in r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize("ext", ["csv", "jsonl", "xlsx", "parquet"])
def test_tag_every_format(tmp_path, tiny_model, ext):
    rows = pd.DataFrame(
        {
            "id": ["001", "002", "003"],
            "tekst": [
                "Onze zoon zit sinds de herfstvakantie thuis. School zegt handelingsverlegen te zijn.",
                "   ",
                "De school dreigde met een melding bij Veilig Thuis als we niet meewerkten.",
            ],
            "extra": ["a", "b", "c"],
        }
    )
    src = tmp_path / f"in.{ext}"
    from meldtekst.io import read_all, write_table

    write_table(rows, src)
    out = tmp_path / f"out.{ext}"
    r = runner.invoke(app, ["tag", str(src), "-o", str(out), "--model", str(tiny_model)])
    assert r.exit_code == 0, r.output
    assert "empty text" in r.output
    back = read_all(out)
    assert back["id"].astype(str).str.zfill(3).tolist() == ["001", "002", "003"]
    assert back["extra"].tolist() == ["a", "b", "c"]
    if ext == "jsonl":
        assert set(back.columns[-4:]) == {"themes", "scores", "evidence", "needs_review"}
        assert back["themes"][1] == []
        assert len(back["scores"][0]) == 22
        assert all(t in back["evidence"][0] for t in back["themes"][0])
    else:
        assert "thuiszitter" in back.columns and "score_thuiszitter" in back.columns
        assert back["themes"].fillna("").tolist()[1] == ""
        assert "thuiszitter" in str(back["themes"][0])


def test_tag_refuses_output_equal_to_input(tmp_path, tiny_model):
    src = tmp_path / "in.csv"
    src.write_text("id,tekst\n1,hallo\n")
    r = runner.invoke(app, ["tag", str(src), "-o", str(src), "--model", str(tiny_model)])
    assert r.exit_code == 1 and "must not be the input" in r.output
    assert src.read_text() == "id,tekst\n1,hallo\n"


def _reports_file(tmp_path, corpus_rows, n: int = 40):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": r["id"], "tekst": r["tekst"]}) + "\n" for r in corpus_rows[:n]))
    return src


def test_threshold_scale_changes_theme_count(tmp_path, tiny_model, corpus_rows):
    src = _reports_file(tmp_path, corpus_rows)
    counts = {}
    for scale in ("0.5", "1.0", "1.5"):
        out = tmp_path / f"o{scale}.jsonl"
        assert (
            runner.invoke(
                app, ["tag", str(src), "-o", str(out), "-m", str(tiny_model), "--threshold-scale", scale]
            ).exit_code
            == 0
        )
        counts[scale] = sum(len(json.loads(line)["themes"]) for line in out.read_text().splitlines())
    assert counts["0.5"] > counts["1.0"] > counts["1.5"]


def test_review_band_widens_and_validates(tmp_path, tiny_model, corpus_rows):
    src = _reports_file(tmp_path, corpus_rows)
    flagged = {}
    for band in ("0", "0.2", "1"):
        out = tmp_path / f"r{band}.jsonl"
        r = runner.invoke(app, ["tag", str(src), "-o", str(out), "-m", str(tiny_model), "--review-band", band])
        assert r.exit_code == 0
        flagged[band] = sum(json.loads(line)["needs_review"] for line in out.read_text().splitlines())
    assert flagged["0"] == 0 < flagged["0.2"] <= flagged["1"] == 40
    bad = runner.invoke(
        app, ["tag", str(src), "-o", str(tmp_path / "x.jsonl"), "-m", str(tiny_model), "--review-band", "2"]
    )
    assert bad.exit_code == 1 and "--review-band" in bad.output


def test_missing_text_column_suggests(tmp_path, tiny_model):
    src = tmp_path / "in.csv"
    src.write_text("id,Tekst melding\n1,hallo\n")
    r = runner.invoke(app, ["tag", str(src), "-o", str(tmp_path / "o.csv"), "-m", str(tiny_model)])
    assert r.exit_code == 1 and "Tekst melding" in r.output and "--text-column" in r.output


def test_evaluate_writes_json_and_errors(tmp_path, tiny_model, small_labelled):
    js, errs = tmp_path / "m.json", tmp_path / "e.csv"
    r = runner.invoke(
        app, ["evaluate", str(small_labelled), "-m", str(tiny_model), "--json", str(js), "--errors", str(errs)]
    )
    assert r.exit_code == 0, r.output
    m = json.loads(js.read_text())
    assert 0 < m["macro_f1"] <= 1 and set(m["per_theme"]["autisme"]) == {"precision", "recall", "f1", "support"}
    assert pd.read_csv(errs).columns.tolist()[:3] == ["id", "tekst", "expected"]


def test_bad_model_dirs(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,tekst\n1,hallo\n")
    r = runner.invoke(app, ["tag", str(src), "-o", str(tmp_path / "o.csv"), "-m", "doesnotexist"])
    assert r.exit_code == 1 and "not found" in r.output
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "meta.json").write_text("{not json")
    r = runner.invoke(app, ["tag", str(src), "-o", str(tmp_path / "o.csv"), "-m", str(broken)])
    assert r.exit_code == 1 and "corrupt" in r.output


def test_wrong_codebook_version(tmp_path, tiny_model):
    import shutil

    copy = tmp_path / "old"
    shutil.copytree(tiny_model, copy)
    meta = json.loads((copy / "meta.json").read_text())
    meta["codebook_version"] = 0
    (copy / "meta.json").write_text(json.dumps(meta))
    src = tmp_path / "in.csv"
    src.write_text("id,tekst\n1,hallo\n")
    r = runner.invoke(app, ["tag", str(src), "-o", str(tmp_path / "o.csv"), "-m", str(copy)])
    assert r.exit_code == 1 and "codebook v0" in r.output


# ------------------------------------------------------------------ help, output names, MLflow store


def _leaf_commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        if isinstance(getattr(cmd, "commands", None), dict):  # a group (TyperGroup need not be a click.Group)
            out.extend(_leaf_commands(cmd, (*path, name)))
        else:
            out.append(((*path, name), cmd))
    return out


ALL_COMMANDS = _leaf_commands(typer.main.get_command(app))


@pytest.mark.parametrize(("path", "cmd"), ALL_COMMANDS, ids=[" ".join(p) for p, _ in ALL_COMMANDS])
def test_every_command_help_has_an_example_and_upper_case_metavars(path, cmd):
    """`--help` shows one runnable example (the options it uses exist) and names arguments in upper case."""
    r = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "250", "TERMINAL_WIDTH": "250"})
    assert r.exit_code == 0, r.output
    usage = next(line for line in r.output.splitlines() if "Usage:" in line)
    names = re.findall(r"[{\[]([^{}\[\]]+)[}\]]", usage.split(" ".join(path), 1)[1])
    assert "[[" not in usage and all(n == n.upper() for n in names), usage
    examples = re.findall(r"Example: (meldtekst [^│\n]+)", r.output)
    assert examples, f"no 'Example: meldtekst ...' in `meldtekst {' '.join(path)} --help`"
    words = shlex.split(examples[0].strip())
    assert tuple(words[1 : 1 + len(path)]) == path, examples[0]
    cmd.make_context(path[-1], words[1 + len(path) :])  # raises on an option the command does not have


def test_root_help_has_an_example():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0 and "Example: meldtekst tag" in r.output


@pytest.mark.parametrize("name", ["uit.txt", "uit.tsv", "uit", "uit.xls"])
def test_tag_refuses_an_output_name_it_would_not_honour(tmp_path, tiny_model, name):
    """`-o x.txt` used to exit 0 with a CSV inside; now one line with the names that can be written."""
    src = tmp_path / "in.csv"
    src.write_text("id,tekst\n1,hallo\n")
    r = runner.invoke(app, ["tag", str(src), "-o", str(tmp_path / name), "-m", str(tiny_model)])
    assert r.exit_code == 1 and len(r.output.strip().splitlines()) == 1, r.output
    assert r.output.startswith("Error:") and ".csv, .xlsx, .jsonl or .parquet" in r.output
    assert [p.name for p in tmp_path.iterdir()] == ["in.csv"]


def test_evaluate_without_labels_names_options_that_exist(tmp_path, tiny_model):
    """The hint used to name --labels-column, which `evaluate` did not have."""
    src = tmp_path / "ongelabeld.csv"
    src.write_text("id,tekst\n1,Onze zoon zit thuis.\n")
    r = runner.invoke(app, ["evaluate", str(src), "-m", str(tiny_model)])
    assert r.exit_code == 1 and "no labels column 'labels'" in r.output, r.output
    evaluate = typer.main.get_command(app).commands["evaluate"]
    options = {opt for param in evaluate.params for opt in param.opts}
    hinted = set(re.findall(r"--[a-z-]+", r.output))
    assert hinted and hinted <= options, hinted


def test_evaluate_labels_column_option(tmp_path, tiny_model, small_labelled):
    rows = [json.loads(line) for line in small_labelled.read_text(encoding="utf-8").splitlines()][:40]
    src = tmp_path / "anders.jsonl"
    src.write_text(
        "".join(json.dumps({"id": r["id"], "bericht": r["tekst"], "codes": r["labels"]}) + "\n" for r in rows)
    )
    args = ["evaluate", str(src), "-m", str(tiny_model), "--split", "all"]
    r = runner.invoke(app, [*args, "--text-column", "bericht", "--labels-column", "codes"])
    assert r.exit_code == 0, r.output


def test_listing_models_creates_no_mlflow_store(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["models", "--json"])
    assert r.exit_code == 0, r.output
    assert {row["model"] for row in json.loads(r.output)} >= {"fast", "accurate"}
    r = runner.invoke(app, ["registry", "list"])
    assert r.exit_code == 0 and "no registered models" in r.output
    r = runner.invoke(app, ["registry", "alias", "meldtekst", "production", "1"])
    assert r.exit_code == 1 and "no MLflow store" in r.output
    assert list(tmp_path.iterdir()) == []


def test_preparing_a_base_model_shows_progress(capsys):
    """Models prepare their base model lazily with progress=False; the CLI still shows the steps."""
    from meldtekst import basemodels

    try:
        r = runner.invoke(app, ["codebook", "--format", "json"])
        assert r.exit_code == 0 and basemodels._ALWAYS_SHOW
        with basemodels._Steps(False, "Preparing base model e5-small", total=1) as steps, steps.step("converting"):
            pass
        assert "Preparing base model e5-small" in capsys.readouterr().err
        basemodels.show_preparation_progress(False)
        with basemodels._Steps(False, "Preparing base model e5-small", total=1) as steps, steps.step("converting"):
            pass
        assert capsys.readouterr().err == ""
    finally:
        basemodels.show_preparation_progress(False)


@pytest.mark.slow
def test_train_keeps_mlflow_quiet(tmp_path, small_labelled):
    """A tracked, registered training in a fresh process prints meldtekst's lines only: no MLflow
    database set-up, alembic, registration chatter or download bar."""
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text("kind: linear\nname: tiny\nthreshold_folds: 2\nmodel:\n  char_ngrams: [3, 4]\n  min_df: 3\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    args = [sys.executable, "-m", "meldtekst", "train", str(small_labelled), "-c", str(cfg), "-o", str(tmp_path / "m")]
    proc = subprocess.run(
        [*args, "--register", "stil"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert not re.search(r"(INFO|WARNING) (mlflow|alembic)|Context impl|Downloading artifacts|UserWarning", out), out
    assert "Successfully registered" not in out and "Created version" not in out, out
    assert "registered as stil version 1" in out
