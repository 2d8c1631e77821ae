"""The bad-input battery of the tagger: each case gives a correct result or one clear line, exit 1."""

import json
import logging

import pandas as pd
import pytest
from typer.testing import CliRunner

from meldtekst.cli import app
from meldtekst.io import read_all

runner = CliRunner()
CANARY = "ZEBRAVINK4417"


def _tag(tiny_model, src, dst, *extra):
    return runner.invoke(app, ["tag", str(src), "-o", str(dst), "--model", str(tiny_model), *extra])


def test_header_only_gives_header_only_output(tmp_path, tiny_model):
    src = tmp_path / "h.csv"
    src.write_text("id;tekst;rol\n")
    r = _tag(tiny_model, src, tmp_path / "o.csv")
    assert r.exit_code == 0, r.output
    back = read_all(tmp_path / "o.csv")
    assert len(back) == 0 and back.columns[:3].tolist() == ["id", "tekst", "rol"]


def test_excel_semicolon_cp1252_with_quotes_and_newlines(tmp_path, tiny_model):
    src = tmp_path / "excel.csv"
    body = 'id;tekst\n001;"Zoon (9) zit thuis; school zegt: ""handelingsverlegen"".\nTweede regel café"\n002;kort\n'
    src.write_bytes(body.encode("cp1252"))
    r = _tag(tiny_model, src, tmp_path / "o.csv")
    assert r.exit_code == 0, r.output
    out = (tmp_path / "o.csv").read_text(encoding="utf-8-sig")
    assert out.splitlines()[0].startswith("id;tekst;")  # the delimiter of the input is kept
    back = read_all(tmp_path / "o.csv")
    assert back["id"].tolist() == ["001", "002"]
    assert back["tekst"][0].endswith("Tweede regel café")


def test_duplicate_ids_warn_and_keep_rows(tmp_path, tiny_model):
    src = tmp_path / "d.csv"
    src.write_text("id,tekst\n1,a\n1,b\n2,c\n")
    r = _tag(tiny_model, src, tmp_path / "o.csv")
    assert r.exit_code == 0 and "more than once" in r.output
    assert len(read_all(tmp_path / "o.csv")) == 3


def test_huge_emoji_and_foreign_texts(tmp_path, tiny_model):
    big = "Mijn zoon zit al maanden thuis en de school doet niets. " * 18_000  # ~1 MB
    rows = [
        {"id": "big", "tekst": big},
        {"id": "emoji", "tekst": "😡😡😡🙏"},
        {"id": "en", "tekst": "My son is at home."},
    ]
    src = tmp_path / "x.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    r = _tag(tiny_model, src, tmp_path / "o.jsonl")
    assert r.exit_code == 0, r.output
    out = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [o["id"] for o in out] == ["big", "emoji", "en"]
    assert "thuiszitter" in out[0]["themes"]
    assert all(len(e) <= 600 for e in out[0]["evidence"].values())


def test_xlsx_merged_header_and_several_sheets(tmp_path, tiny_model):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "meldingen"
    ws.append(["Meldingen export", None, None])
    ws.merge_cells("A1:C1")
    wb.create_sheet("andere").append(["x"])
    path = tmp_path / "m.xlsx"
    wb.save(path)
    r = _tag(tiny_model, path, tmp_path / "o.csv")
    assert r.exit_code == 1 and "no text column 'tekst'" in r.output and "\n" not in r.output.strip()


def test_binary_and_unknown_extension(tmp_path, tiny_model):
    garbage = tmp_path / "g.csv"
    garbage.write_bytes(bytes(range(256)) * 20)
    r = _tag(tiny_model, garbage, tmp_path / "o.csv")
    assert r.exit_code == 1 and "binary" in r.output
    r = _tag(tiny_model, garbage, tmp_path / "o.docx")
    assert r.exit_code == 1 and "unknown file type" in r.output


def test_interrupt_leaves_no_partial_output(tmp_path, tiny_model, monkeypatch):
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": range(2500), "tekst": ["Hij zit thuis."] * 2500}).to_csv(src, index=False)
    dst = tmp_path / "o.csv"
    dst.write_text("previous run\n")
    import meldtekst.tagging as tagging
    from meldtekst.models.store import load_model_dir

    calls = {"n": 0}
    real = tagging.tag_texts

    def interrupted(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(tagging, "tag_texts", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tagging.tag_file(src, dst, load_model_dir(tiny_model), chunksize=1000, workers=1)
    assert dst.read_text() == "previous run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "o.csv"]
    # through the CLI the interrupt becomes one line and exit code 130
    calls["n"] = 0
    r = runner.invoke(app, ["tag", str(src), "-o", str(dst), "--model", str(tiny_model), "-q", "--workers", "1"])
    assert r.exit_code == 130 and "Interrupted" in r.output
    assert dst.read_text() == "previous run\n"


def test_no_report_text_in_logs_or_errors(tmp_path, tiny_model, caplog):
    src = tmp_path / "in.csv"
    src.write_text(f'id,tekst\n1,"Mijn dochter {CANARY} zit thuis."\n2,"{CANARY} weer"\n')
    caplog.set_level(logging.DEBUG)
    r = runner.invoke(app, ["--verbose", "tag", str(src), "-o", str(tmp_path / "o.csv"), "--model", str(tiny_model)])
    assert r.exit_code == 0
    assert CANARY not in r.output and CANARY not in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "o.csv"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(f'{{"id": "1", "tekst": "{CANARY}", "labels": "autisme"}}\n')
    r = runner.invoke(app, ["validate", str(bad)])
    assert r.exit_code == 1 and CANARY not in r.output
    r = runner.invoke(app, ["evaluate", str(bad), "--model", str(tiny_model)])
    assert r.exit_code == 1 and CANARY not in r.output


def test_models_with_their_own_threads_are_tagged_in_one_process(tmp_path, tiny_model, monkeypatch):
    """ONNX Runtime's and torch's thread pools do not survive a fork: such models never fork."""
    import meldtekst.tagging as tagging
    from meldtekst.models.store import load_model_dir

    src, dst = tmp_path / "in.csv", tmp_path / "o.csv"
    pd.DataFrame({"id": range(1200), "tekst": ["Hij zit thuis sinds de zomer."] * 1200}).to_csv(src, index=False)
    forks = []
    monkeypatch.setattr(tagging, "ProcessPoolExecutor", lambda *a, **k: forks.append(a) or pytest.fail("forked"))
    model = load_model_dir(tiny_model)
    model.estimator.parallel_inside = True
    tagging.tag_file(src, dst, model, chunksize=1000, workers=2)
    assert not forks and len(read_all(dst)) == 1200
    # the same file with a plain (single-threaded) model does use the workers
    del model.estimator.parallel_inside
    with pytest.raises(pytest.fail.Exception, match="forked"):
        tagging.tag_file(src, dst, model, chunksize=1000, workers=2)
