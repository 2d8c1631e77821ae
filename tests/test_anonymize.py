"""De-identification: our patterns alone, with deduce, on files, and through the CLI."""

import itertools
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from meldtekst.anonymize import anonymize_file, deidentify, find_spans, is_valid_bsn
from meldtekst.cli import app
from meldtekst.io import read_all

runner = CliRunner()

# Everything in CANARY_VALUES is invented; none of it may survive de-identification.
CANARY_TEXT = (
    "Onze zoon Thijmen Brakenhoff (9) zit op obs De Klimop-Noord in Valkenmoer. "
    "Juf Anouk belde ons op 06-12345678, mail me op ouder.brakenhoff@voorbeeld.nl. "
    "Zijn BSN is 111222333. Wij wonen aan de Kastanjelaan 17b, 4321 ZX Heerdijk. "
    "Daarna ging hij naar het Wiekslag College; Thijmen wil daar niet meer heen. "
    "Het geld ging naar NL91ABNA0417164300. Bel ook gerust +31 6 87654321."
)
CANARY_VALUES = (
    "Thijmen",
    "Brakenhoff",
    "Klimop",
    "Valkenmoer",
    "Anouk",
    "12345678",
    "ouder.brakenhoff@voorbeeld.nl",
    "111222333",
    "Kastanjelaan",
    "4321 ZX",
    "Heerdijk",
    "Wiekslag",
    "NL91ABNA0417164300",
    "87654321",
)


def test_elfproef():
    assert is_valid_bsn("111222333")
    assert is_valid_bsn("111.222.333")
    assert not is_valid_bsn("123456789")
    assert not is_valid_bsn("12345678")


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Bel 06-12345678 maar.", "TELEFOON"),
        ("Bel 06 1234 5678 maar.", "TELEFOON"),
        ("Bel +31 6 12345678 maar.", "TELEFOON"),
        ("Bel +31 (0)20 1234567 maar.", "TELEFOON"),
        ("Bel 020-1234567 maar.", "TELEFOON"),
        ("Mail jan.de.vries+school@example.org maar.", "EMAIL"),
        ("BSN 111222333 staat erop.", "BSN"),
        ("Postcode 1234 AB staat erop.", "POSTCODE"),
        ("Hij woont op de Kerkstraat 12a nu.", "ADRES"),
        ("Rekening NL91 ABNA 0417 1643 00 staat erop.", "IBAN"),
        ("Hij zat op obs De Klimop-Noord toen.", "INSTELLING"),
        ("Hij zat op basisschool De Regenboog toen.", "INSTELLING"),
        ("Hij zat op het Valkenmoer College toen.", "INSTELLING"),
        ("Hij zat op het Stedelijk Lyceum toen.", "INSTELLING"),
        ("Wij wonen in Valkenmoer sinds kort.", "LOCATIE"),
        ("Mijn zoon Kacper (7) huilt veel.", "PERSOON"),
        ("Reactie van Karin_B: herkenbaar.", "PERSOON"),
    ],
)
def test_our_patterns_without_deduce(text, category):
    result = deidentify(text, use_deduce=False)
    assert result.counts.get(category, 0) >= 1, result
    assert f"[{category}]" in result.text


def test_no_false_positives_on_what_the_lobby_needs():
    text = (
        "Veilig Thuis en de Raad voor de Kinderbescherming kwamen in het schooljaar 2023-2024. "
        "Hij heeft ADHD, zit in groep 8 en was weg 3 dagen. Het nummer 123456789 is geen BSN."
    )
    result = deidentify(text, use_deduce=False)
    assert result.text == text


def test_invalid_bsn_is_not_called_bsn():
    assert "BSN" not in deidentify("nummer 123456789 hier", use_deduce=False).counts


def test_spans_do_not_overlap_and_leave_no_piece_of_a_name():
    spans = find_spans(CANARY_TEXT)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    result = deidentify(CANARY_TEXT)
    for value in CANARY_VALUES:
        assert value not in result.text, value
    for category in ("PERSOON", "INSTELLING", "LOCATIE", "TELEFOON", "EMAIL", "BSN", "ADRES", "POSTCODE", "IBAN"):
        assert result.counts.get(category, 0) >= 1, (category, result)
    assert "Veilig Thuis" not in CANARY_TEXT or "Veilig Thuis" in result.text


def test_empty_and_missing_text():
    assert deidentify("").text == ""
    assert deidentify("   ").counts == {}


def test_anonymize_file_keeps_rows_columns_and_delimiter(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(
        "id;datum;tekst;extra\n"
        f'007;2024-03-14;"{CANARY_TEXT}";a\n'
        "008;14-03-2024;;b\n"
        "009;;Gewoon een zin zonder namen.;c\n",
        encoding="utf-8",
    )
    dst = tmp_path / "out.csv"
    summary = anonymize_file(src, dst)
    assert summary.rows == 3 and summary.texts == 2 and summary.changed == 1
    assert summary.counts["PERSOON"] >= 2 and summary.counts["BSN"] == 1
    raw = dst.read_text(encoding="utf-8-sig")
    assert raw.splitlines()[0] == "id;datum;tekst;extra"
    for value in CANARY_VALUES:
        assert value not in raw, value
    out = read_all(dst)
    assert out["id"].tolist() == ["007", "008", "009"]
    assert out["extra"].tolist() == ["a", "b", "c"]
    assert out["datum"].tolist() == ["2024-03-14", "14-03-2024", ""]
    assert out["tekst"].iloc[2] == "Gewoon een zin zonder namen."


def test_anonymize_jsonl_via_cli_prints_summary(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [{"id": 1, "bericht": CANARY_TEXT, "rol": "ouder"}, {"id": 2, "bericht": None, "rol": "anders"}]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    dst = tmp_path / "out.jsonl"
    r = runner.invoke(app, ["anonymize", str(src), "-o", str(dst), "--text-column", "bericht"])
    assert r.exit_code == 0, r.output
    assert "PERSOON" in r.output and "BSN 1" in r.output
    out = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    assert [o["id"] for o in out] == [1, 2] and out[1]["bericht"] is None
    assert list(out[0]) == ["id", "bericht", "rol"]
    for value in CANARY_VALUES:
        assert value not in out[0]["bericht"], value


def test_anonymize_xlsx_roundtrip(tmp_path):
    from meldtekst.io import write_table

    src = tmp_path / "in.xlsx"
    write_table(pd.DataFrame({"tekst": [CANARY_TEXT, "niets"], "n": [1, 2]}), src)
    dst = tmp_path / "out.xlsx"
    anonymize_file(src, dst)
    out = read_all(dst)
    assert out["n"].tolist() == [1, 2] and out["tekst"].iloc[1] == "niets"
    assert "Thijmen" not in out["tekst"].iloc[0]


def test_anonymize_missing_column_is_one_line(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,bericht\n1,hallo\n", encoding="utf-8")
    r = runner.invoke(app, ["anonymize", str(src), "-o", str(tmp_path / "o.csv")])
    assert r.exit_code == 1
    assert r.output.strip().startswith("Error:") and "tekst" in r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert not (tmp_path / "o.csv").exists()


def test_a_name_written_in_lower_case_later_is_replaced_too():
    text = "onze zoon Mats is 10. mats kreeg in groep 4 de diagnose. leerplicht wil voor mats een proces-verbaal."
    result = deidentify(text, use_deduce=False)
    assert "mats" not in result.text.lower(), result.text
    assert "leerplicht wil voor [PERSOON] een proces-verbaal" in result.text  # the words around them stay
    # deduce finds both names of the twins; their lower-case repeats go too
    text = (
        "onze tweeling, Mats en Jens, 10 jaar. mats kreeg in groep 4 de diagnose. "
        "leerplicht overweegt voor jens een proces-verbaal. Mats zit thuis, jens zit thuis."
    )
    result = deidentify(text)
    words = {w.strip(".,").lower() for w in result.text.split()}
    assert not {"mats", "jens"} & words, result.text
