import json

import pandas as pd
import pytest

from meldtekst.errors import InputError
from meldtekst.io import TableWriter, read_all, read_table, sniff_csv, write_table

ROWS = pd.DataFrame(
    {
        "id": ["007", "008", "010"],
        "tekst": ['Zoon zit thuis; "handelingsverlegen" zei school.\nTweede regel.', "Café één € ü", ""],
        "rol": ["ouder", "professional", "anders"],
    }
)


@pytest.mark.parametrize("name", ["t.csv", "t.jsonl", "t.xlsx", "t.parquet"])
def test_round_trip_every_format_keeps_values_and_order(tmp_path, name):
    path = tmp_path / name
    write_table(ROWS, path)
    back = read_all(path)
    assert list(back.columns) == ["id", "tekst", "rol"]
    got = back.fillna("").astype(str)
    assert got["id"].tolist() == ["007", "008", "010"]
    assert got["tekst"].tolist() == ROWS["tekst"].tolist()


def test_semicolon_cp1252_excel_csv(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes('id;tekst\n1;"Zoon, 9 jr; zit thuis sinds café-ruzie"\n2;Geen € meer\n'.encode("cp1252"))
    assert sniff_csv(path) == ("cp1252", ";")
    df = read_all(path)
    assert df["tekst"].tolist() == ["Zoon, 9 jr; zit thuis sinds café-ruzie", "Geen € meer"]


def test_bom_and_tab(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffid\ttekst\n1\thallo\n".encode())
    assert sniff_csv(path) == ("utf-8-sig", "\t")
    assert read_all(path).columns.tolist() == ["id", "tekst"]


def test_chunks_stream(tmp_path):
    path = tmp_path / "big.csv"
    pd.DataFrame({"id": range(25), "tekst": ["x"] * 25}).to_csv(path, index=False)
    sizes = [len(c) for c in read_table(path, chunksize=10)]
    assert sizes == [10, 10, 5]


def test_header_only_gives_columns(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("id,tekst\n")
    df = read_all(path)
    assert df.columns.tolist() == ["id", "tekst"] and len(df) == 0


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "e.csv", "file is empty"),
        (b"\x00\x01\x02\x89PNG\x00" * 50, "g.csv", "binary"),
        (b"a,b\n1,2\n", "x.docx", "unknown file type"),
        (b'{"id": 1}\n{bad json\n', "j.jsonl", "row 2"),
        (b"[1,2]\n", "j.jsonl", "JSON object"),
        (b"not a zip", "x.xlsx", "Excel"),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_all(path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_and_directory(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_all(tmp_path / "nope.csv")
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(InputError, match="directory"):
        read_all(tmp_path / "d.csv")


def test_xlsx_empty_first_sheet_and_formulas(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "leeg"
    ws = wb.create_sheet("meldingen")
    ws.append(["id", "tekst", None])
    ws.append([1, "Zit thuis", None])
    ws.append([2, '=CONCATENATE("a","b")', None])
    path = tmp_path / "m.xlsx"
    wb.save(path)
    df = read_all(path)
    assert df.columns.tolist() == ["id", "tekst"]
    assert len(df) == 2
    with pytest.raises(InputError, match="sheet 'x' not found"):
        read_all(path, sheet="x")


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("oud\n")
    with pytest.raises(KeyboardInterrupt), TableWriter(path) as w:
        w.write(ROWS)
        raise KeyboardInterrupt
    assert path.read_text() == "oud\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_jsonl_keeps_nested_values(tmp_path):
    path = tmp_path / "n.jsonl"
    path.write_text(json.dumps({"id": "1", "tekst": "x", "labels": ["autisme"], "meta": {"a": 1}}) + "\n")
    out = tmp_path / "o.jsonl"
    write_table(read_all(path), out)
    assert json.loads(out.read_text()) == {"id": "1", "tekst": "x", "labels": ["autisme"], "meta": {"a": 1}}


def test_missing_output_folder(tmp_path):
    with pytest.raises(InputError, match="output folder does not exist"):
        write_table(ROWS, tmp_path / "nope" / "o.csv")


def test_sniff_utf16_and_excel_sep_line(tmp_path):
    path = tmp_path / "u.txt"
    path.write_bytes("id\ttekst\r\n1\tCafé\r\n".encode("utf-16"))
    assert sniff_csv(path) == ("utf-16", "\t")
    assert read_all(path).values.tolist() == [["1", "Café"]]
    path = tmp_path / "s.csv"
    path.write_text("sep=,\nid,tekst\n1,a;b\n")
    assert read_all(path).values.tolist() == [["1", "a;b"]]


def test_lone_carriage_return_in_a_text_round_trips(tmp_path):
    """The csv module quotes only characters of its line terminator: with '\\n' a lone '\\r' went out bare."""
    df = pd.DataFrame({"id": ["1", "2"], "tekst": ["a\rb", "\r"]})
    write_table(df, tmp_path / "o.csv")
    assert read_all(tmp_path / "o.csv").values.tolist() == [["1", "a\rb"], ["2", "\r"]]


def test_row_with_too_few_fields_is_named(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("id,tekst,rol\n1,Hij zit thuis\nsinds maart,ouder\n")
    with pytest.raises(InputError, match=r"row 1: only 2 field\(s\) but the header has 3 \(line 2\)"):
        read_all(path)


def test_blank_lines_are_skipped_and_rows_numbered_without_them(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("id,tekst\n\n1,a\n\n2,b,c\n")
    with pytest.raises(InputError, match=r"row 2: 3 fields .* \(line 5\)"):
        read_all(path)


def test_check_writable_output(tmp_path):
    from meldtekst.io import check_writable_output

    src = tmp_path / "in.csv"
    src.write_text("id,tekst\n")
    assert check_writable_output(tmp_path / "o.csv", inputs=[src]) == tmp_path / "o.csv"
    (tmp_path / "map.csv").mkdir()
    with pytest.raises(InputError, match="output is a folder"):
        check_writable_output(tmp_path / "map.csv")
    with pytest.raises(InputError, match="output folder does not exist"):
        check_writable_output(tmp_path / "nope" / "o.csv")
    with pytest.raises(InputError, match="output folder is not a folder"):
        check_writable_output(src / "o.csv")
    with pytest.raises(InputError, match="must not be the input"):
        check_writable_output(tmp_path / "." / "in.csv", inputs=[src])
    with pytest.raises(InputError, match="unknown file type"):
        check_writable_output(tmp_path / "o.docx")
    check_writable_output(tmp_path / "o.html", table=False)


def test_writer_refuses_columns_that_change_between_chunks(tmp_path):
    from meldtekst.errors import MeldtekstError

    with pytest.raises(MeldtekstError, match="columns changed"), TableWriter(tmp_path / "o.csv") as w:
        w.write(pd.DataFrame({"id": ["1"]}))
        w.write(pd.DataFrame({"id": ["2"], "extra": ["x"]}))
    assert list(tmp_path.iterdir()) == []


def test_missing_id_check_is_opt_in(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"id": "1", "tekst": "a"}\n{"id": null, "tekst": "b"}\n')
    assert len(read_all(path)) == 2
    with pytest.raises(InputError, match="row 2, column 'id': id is missing"):
        read_all(path, id_column="id")
