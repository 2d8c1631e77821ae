"""Hostile and odd input files (issue #20): each is read faithfully, every row out in order with its id,
or refused with one line naming file, row and column; never a traceback, never a temp file left behind."""

from __future__ import annotations

import csv
import errno
import io
import json
import logging
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from meldtekst.cli import app
from meldtekst.errors import InputError, MeldtekstError
from meldtekst.io import TableWriter, read_all, read_table, write_table, write_text_atomic
from meldtekst.models.store import load_model
from meldtekst.tagging import tag_file

runner = CliRunner()
TEXT = "Mijn zoon zit al maanden thuis en school doet niets."


@pytest.fixture(scope="module")
def fast():
    return load_model("fast")


def _tag(src: Path, dst: Path, *extra: str):
    return runner.invoke(app, ["tag", str(src), "-o", str(dst), "--model", "fast", "-q", *extra])


def _one_line_error(result, *parts: str) -> str:
    """Exit 1, exactly one line on stderr, no traceback, and every expected part in that line."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


def _no_temp_files(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def _csv_rows(path: Path, delimiter: str = ",") -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh, delimiter=delimiter))


# ----------------------------------------------------------- 4. a separator too many


def test_trailing_separator_on_every_data_row_is_refused_naming_the_row(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,tekst\n1,Jan Jansen belde 0612345678,\n2,tweede melding,\n")
    r = _tag(src, tmp_path / "o.csv")
    _one_line_error(r, "in.csv", "row 1", "3 fields but the header has 2", "line 2")
    assert not (tmp_path / "o.csv").exists()
    r = runner.invoke(app, ["validate", str(src)])  # validate no longer says OK
    _one_line_error(r, "in.csv", "row 1")


def test_pandas_never_takes_a_column_as_index(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,tekst\n007,a\n008,b,c\n")
    with pytest.raises(InputError, match="row 2"):
        read_all(src)


# ----------------------------------------------------------- 5. stray and unclosed quotes


def test_stray_quote_inside_quoted_text_is_refused(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text('id,tekst\n1,"hij zei "nee" en ging\n2,"ok"\n3,x\n')
    _one_line_error(_tag(src, tmp_path / "o.csv"), "in.csv", "row 1", "quote", "line 2")


def test_quote_never_closed_is_refused(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text('id,tekst\n1,ok\n2,"hallo\n3,wereld\n4,fine\n')
    _one_line_error(_tag(src, tmp_path / "o.csv"), "in.csv", "row 2", "never closed", "lines 3-5")


def test_quote_closed_rows_later_warns_with_the_row(tmp_path):
    """Valid CSV, but a row boundary sits inside a text: kept as read, with a warning naming the row."""
    src = tmp_path / "in.csv"
    src.write_text('id,tekst\nM-1,gewoon\nM-2,"Hij zei nee, toen\nM-3,ja"\nM-4,x\n')
    r = _tag(src, tmp_path / "o.csv")
    assert r.exit_code == 0, r.output
    assert "row(s) 2 hold a line break followed by what looks like the start of another row" in r.stderr
    assert [row[0] for row in _csv_rows(tmp_path / "o.csv")[1:]] == ["M-1", "M-2", "M-4"]


def test_multi_line_texts_do_not_warn(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text('id,tekst\n1,"Eerste regel.\nTweede, met komma.\n3 keer gebeld"\n2,x\n')
    info_rows = read_all(src)
    assert info_rows["id"].tolist() == ["1", "2"]
    r = _tag(src, tmp_path / "o.csv")
    assert r.exit_code == 0 and "Warning" not in r.stderr


# ----------------------------------------------------------- 6. JSONL keys first seen late


def test_jsonl_key_first_seen_after_the_first_chunk(tmp_path, fast):
    src, dst = tmp_path / "in.jsonl", tmp_path / "o.csv"
    rows = [{"id": f"r{i}", "tekst": TEXT} for i in range(25)]
    rows[22]["extra"] = "laat"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert [list(c.columns) for c in read_table(src, chunksize=10)] == [["id", "tekst", "extra"]] * 3
    tag_file(src, dst, fast, chunksize=10, workers=1)
    out = _csv_rows(dst)
    assert out[0][:3] == ["id", "tekst", "extra"]
    assert {len(r) for r in out} == {len(out[0])}  # no row wider than the header
    assert [r[0] for r in out[1:]] == [f"r{i}" for i in range(25)]
    assert out[23][2] == "laat" and out[22][2] == ""


# ----------------------------------------------------------- 7. names, sizes and values


def test_duplicate_header_name_is_refused_naming_the_column(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,tekst,tekst\n1,a,b\n")
    _one_line_error(_tag(src, tmp_path / "o.csv"), "in.csv", "column 'tekst'", "twice")


def test_empty_trailing_header_column_is_dropped_with_a_warning(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(f"id,tekst,\n1,{TEXT},\n2,kort,\n")
    r = _tag(src, tmp_path / "o.csv")
    assert r.exit_code == 0, r.output
    assert "column(s) 3 have no name in the header and are empty in every row: left out" in r.stderr
    out = _csv_rows(tmp_path / "o.csv")
    assert out[0][:2] == ["id", "tekst"] and "" not in out[0] and not any(c.startswith("Unnamed") for c in out[0])
    assert {len(r) for r in out} == {len(out[0])}
    assert [r[0] for r in out[1:]] == ["1", "2"]


def test_unnamed_column_with_a_value_is_refused(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,tekst,\n1,a,\n2,b,x\n")
    _one_line_error(_tag(src, tmp_path / "o.csv"), "in.csv", "row 2", "column 3 has no name")


def test_xlsx_refuses_cells_it_would_cut(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(f"id,tekst\n1,kort\n2,{'woord ' * 6000}\n")
    r = _tag(src, tmp_path / "o.xlsx")
    _one_line_error(r, "o.xlsx", "row 2", "column 'tekst'", "32,767", ".csv")
    _no_temp_files(tmp_path)
    assert not (tmp_path / "o.xlsx").exists()


def test_control_characters_kept_in_csv_refused_in_xlsx(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,tekst\n1,bel\x07 en\x1b tab\n")
    assert _tag(src, tmp_path / "o.csv").exit_code == 0
    assert _csv_rows(tmp_path / "o.csv")[1][1] == "bel\x07 en\x1b tab"
    _one_line_error(_tag(src, tmp_path / "o.xlsx"), "o.xlsx", "row 1", "column 'tekst'", "U+0007")


def test_nested_json_becomes_json_text_in_csv(tmp_path, caplog):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "1", "tekst": TEXT, "meta": {"bron": "mail", "n": [1, 2]}}) + "\n")
    with caplog.at_level(logging.WARNING):
        r = _tag(src, tmp_path / "o.csv")
    assert r.exit_code == 0, r.output
    row = dict(zip(*_csv_rows(tmp_path / "o.csv"), strict=True))
    assert json.loads(row["meta"]) == {"bron": "mail", "n": [1, 2]}
    assert "column 'meta' holds nested JSON (objects or lists): written as JSON text" in caplog.text


def test_nested_json_in_mixed_parquet_column_is_json_not_repr(tmp_path):
    out = tmp_path / "o.parquet"
    write_table(pd.DataFrame({"id": ["1", "2"], "meta": [{"a": 1}, "tekst"]}, dtype=object), out)
    assert read_all(out)["meta"].tolist() == ['{"a": 1}', "tekst"]


@pytest.mark.parametrize("missing", ['"id": null, ', '"id": NaN, ', "", '"id": " ", '])
def test_missing_id_is_refused_naming_the_row(tmp_path, missing):
    src = tmp_path / "in.jsonl"
    src.write_text(f'{{"id": "a", "tekst": "x"}}\n{{{missing}"tekst": "{TEXT}"}}\n')
    _one_line_error(_tag(src, tmp_path / "o.jsonl"), "in.jsonl", "row 2", "column 'id'", "id is missing")
    assert not (tmp_path / "o.jsonl").exists()


def test_missing_id_in_csv_and_validate(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(f"id,tekst\n1,a\n,{TEXT}\n,\n")
    _one_line_error(_tag(src, tmp_path / "o.csv"), "in.csv", "row 2", "column 'id'")
    r = runner.invoke(app, ["validate", str(src)])
    assert r.exit_code == 1 and "row 2, column 'id': id is missing" in r.output and "row 3" not in r.output


def test_entirely_empty_row_needs_no_id(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,tekst\n1,a\n,\n2,b\n")
    r = _tag(src, tmp_path / "o.csv")
    assert r.exit_code == 0, r.output
    assert [r[0] for r in _csv_rows(tmp_path / "o.csv")[1:]] == ["1", "", "2"]


def test_xlsx_duplicate_header_and_unnamed_column_with_data(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["id", "tekst", "tekst"])
    wb.active.append([1, "a", "b"])
    wb.save(tmp_path / "dup.xlsx")
    _one_line_error(_tag(tmp_path / "dup.xlsx", tmp_path / "o.csv"), "dup.xlsx", "column 'tekst'", "twice")
    wb = openpyxl.Workbook()
    wb.active.append(["id", "tekst"])
    wb.active.append([1, "a", "opmerking zonder kop"])
    wb.save(tmp_path / "extra.xlsx")
    r = _tag(tmp_path / "extra.xlsx", tmp_path / "o.csv")
    assert r.exit_code == 0 and "kept as kolom_3" in r.stderr
    assert _csv_rows(tmp_path / "o.csv")[1][:3] == ["1", "a", "opmerking zonder kop"]  # not cut off


# ----------------------------------------------------------- 8. valid files that were refused


def test_utf16_excel_unicode_text(tmp_path):
    src = tmp_path / "excel.txt"
    src.write_bytes("id\ttekst\r\n001\tCafé één, zoon thuis\r\n002\t€ 5\r\n".encode("utf-16"))
    r = _tag(src, tmp_path / "o.csv")
    assert r.exit_code == 0, r.output
    out = _csv_rows(tmp_path / "o.csv", delimiter="\t")
    assert [r[:2] for r in out[1:]] == [["001", "Café één, zoon thuis"], ["002", "€ 5"]]


def test_utf16_without_bom(tmp_path):
    src = tmp_path / "x.csv"
    src.write_bytes("id;tekst\n1;hallo\n".encode("utf-16-le"))
    assert read_all(src).values.tolist() == [["1", "hallo"]]


def test_excel_sep_line(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("sep=;\r\nid;tekst\r\n1;a, b\r\n2;c\r\n")
    r = _tag(src, tmp_path / "o.csv")
    assert r.exit_code == 0, r.output
    out = _csv_rows(tmp_path / "o.csv", delimiter=";")
    assert out[0][:2] == ["id", "tekst"] and [r[:2] for r in out[1:]] == [["1", "a, b"], ["2", "c"]]


def test_semicolon_file_with_a_very_long_first_text(tmp_path):
    src = tmp_path / "in.csv"
    long = "woord, " * 200_000  # 1.4 MB: longer than the sniffing sample, full of commas
    src.write_text(f"id;tekst\n1;{long}\n2;kort\n")
    df = read_all(src)
    assert df.columns.tolist() == ["id", "tekst"] and df["id"].tolist() == ["1", "2"]
    assert df["tekst"][0] == long


def test_single_column_file_with_separators_in_texts(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("tekst\nhallo; dit, is een melding\nnog een, met komma, twee\n")
    assert read_all(src)["tekst"].tolist() == ["hallo; dit, is een melding", "nog een, met komma, twee"]


def test_separator_only_on_data_rows_is_named(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("tekst\n1;hallo\n2;doei\n")
    _one_line_error(_tag(src, tmp_path / "o.csv"), "in.csv", "header has one column name", "';'")
    src.write_text("id,tekst\n1;hallo\n2;doei\n")
    _one_line_error(_tag(src, tmp_path / "o.csv"), "header is separated by ','", "rows by ';'")


# ----------------------------------------------------------- 9. tracebacks that became one line


def test_lone_surrogate_in_jsonl(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "1", "tekst": "ok \\ud83d\\ude00"}\n{"id": "2", "tekst": "half \\ud800 paar"}\n')
    _one_line_error(_tag(src, tmp_path / "o.csv"), "in.jsonl", "row 2", "column 'tekst'", "lone surrogate")
    src.write_text('{"id": "1", "tekst": "ok \\ud83d\\ude00"}\n')  # a whole pair is one character: fine
    assert read_all(src)["tekst"].tolist() == ["ok 😀"]


def test_corrupt_parquet_page(tmp_path):
    import pyarrow.parquet as pq

    src = tmp_path / "in.parquet"
    n = 3000  # three row groups of 1000; `tag` reads 2000 rows at a time
    df = pd.DataFrame({"id": [str(i) for i in range(n)], "tekst": [f"melding nummer {i} " * 3 for i in range(n)]})
    df.to_parquet(src, row_group_size=1000)
    col = pq.ParquetFile(src).metadata.row_group(2).column(1)
    data = bytearray(src.read_bytes())
    start = col.data_page_offset + 40
    data[start : start + 200] = b"\xff" * 200
    src.write_bytes(bytes(data))
    _one_line_error(_tag(src, tmp_path / "o.csv"), "in.parquet", "Parquet data is damaged", "row 2001")
    _no_temp_files(tmp_path)
    assert not (tmp_path / "o.csv").exists()


def test_parquet_duplicate_field_names(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "in.parquet"
    pq.write_table(pa.table([pa.array(["1"]), pa.array(["a"]), pa.array(["b"])], names=["id", "tekst", "id"]), src)
    _one_line_error(_tag(src, tmp_path / "o.csv"), "in.parquet", "column 'id'", "twice")


def test_corrupt_sheet_xml(tmp_path):
    import openpyxl

    good, bad = tmp_path / "good.xlsx", tmp_path / "bad.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["id", "tekst"])
    wb.active.append([1, TEXT])
    wb.save(good)
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item, data[: len(data) // 2] if item.filename.endswith("sheet1.xml") else data)
    _one_line_error(_tag(bad, tmp_path / "o.csv"), "bad.xlsx", "not a readable Excel", "damaged")


def test_output_is_a_folder_fails_before_the_run(tmp_path, fast, monkeypatch):
    src = tmp_path / "in.csv"
    src.write_text(f"id,tekst\n1,{TEXT}\n")
    (tmp_path / "uit.csv").mkdir()
    _one_line_error(_tag(src, tmp_path / "uit.csv"), "uit.csv", "output is a folder")
    import meldtekst.tagging as tagging

    monkeypatch.setattr(tagging, "read_table", lambda *a, **k: pytest.fail("read before the output was checked"))
    with pytest.raises(InputError, match="output is a folder"):
        tag_file(src, tmp_path / "uit.csv", fast)
    with pytest.raises(InputError, match="output folder does not exist"):
        tag_file(src, tmp_path / "nope" / "o.csv", fast)


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_while_writing_csv(tmp_path, monkeypatch):
    src = tmp_path / "in.csv"
    src.write_text(f"id,tekst\n1,{TEXT}\n")
    (tmp_path / "o.csv").write_text("vorige run\n")
    monkeypatch.setattr(pd.DataFrame, "to_csv", _disk_full)
    r = _tag(src, tmp_path / "o.csv")
    _one_line_error(r, f"disk full while writing {tmp_path / 'o.csv'}")
    _no_temp_files(tmp_path)
    assert (tmp_path / "o.csv").read_text() == "vorige run\n"


def test_disk_full_on_the_last_flush_and_again_in_cleanup(tmp_path, monkeypatch):
    """/dev/full fails every flush with ENOSPC: at the close in _finish and again in the cleanup."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    src = tmp_path / "in.csv"
    src.write_text(f"id,tekst\n1,{TEXT}\n")
    monkeypatch.setattr(TableWriter, "_open_text", lambda self: open("/dev/full", "w", encoding="utf-8"))  # noqa: SIM115
    r = _tag(src, tmp_path / "o.jsonl")
    _one_line_error(r, "disk full while writing", "o.jsonl")
    _no_temp_files(tmp_path)
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_disk_full_while_saving_xlsx_or_parquet(tmp_path, monkeypatch, fmt):
    import meldtekst.io as mio

    def half_then_full(df, path):
        path.write_bytes(b"PK half a file")
        _disk_full()

    monkeypatch.setattr(mio, f"_to_{fmt}", half_then_full)
    with pytest.raises(MeldtekstError, match="disk full while writing"):
        write_table(pd.DataFrame({"id": ["1"]}), tmp_path / f"o.{fmt}")
    assert list(tmp_path.iterdir()) == []


def test_disk_full_in_atomic_text_write(tmp_path, monkeypatch):
    monkeypatch.setattr(Path, "write_text", _disk_full)
    with pytest.raises(MeldtekstError, match="disk full while writing"):
        write_text_atomic(tmp_path / "config.xml", "<View/>")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------- validate agrees with train


def test_validate_reports_an_empty_text_in_labelled_data_as_train_does(tmp_path):
    from meldtekst.validate import load_labelled

    src = tmp_path / "l.csv"
    src.write_text('id,tekst,labels\n1,hallo,autisme\n2,"  ",adhd\n')
    with pytest.raises(InputError, match="empty text in labelled data"):
        load_labelled(src)  # what `train` reads the file with
    r = runner.invoke(app, ["validate", str(src)])
    assert r.exit_code == 1 and "l.csv, row 2, column 'tekst': empty text in labelled data" in r.output
    assert "would refuse this file on its own" in r.output  # too few positives: a warning, as for small files
    unlabelled = tmp_path / "u.csv"
    unlabelled.write_text('id,tekst\n1,hallo\n2,"  "\n')
    assert runner.invoke(app, ["validate", str(unlabelled)]).exit_code == 0  # tagging keeps empty texts


def test_validate_uses_the_threshold_of_train():
    from meldtekst.training import MIN_POSITIVES
    from meldtekst.validate import MIN_TRAIN_POSITIVES

    assert MIN_TRAIN_POSITIVES == MIN_POSITIVES


# ----------------------------------------------------------- property: CSV round trips keep every id

_free_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
    | st.sampled_from(list(",;\"\n\r\t '")),
    max_size=30,
)
_ids = _free_text.filter(lambda s: s.strip() != "")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(_ids, _free_text), min_size=1, max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_csv_round_trip_keeps_every_id_in_order(tmp_path_factory, fast, rows, delimiter, encoding):
    folder = tmp_path_factory.mktemp("rt")
    src, dst = folder / "in.csv", folder / "out.csv"
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(["id", "tekst"])
    writer.writerows(rows)
    src.write_bytes(buf.getvalue().encode(encoding))
    summary = tag_file(src, dst, fast, workers=1)
    assert summary.rows == len(rows)
    back = _csv_rows(dst, delimiter=delimiter)
    assert back[0][:2] == ["id", "tekst"]
    assert [tuple(r[:2]) for r in back[1:]] == rows
    _no_temp_files(folder)
