import json

import pandas as pd
import pytest
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
