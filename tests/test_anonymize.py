"""De-identification: our patterns alone, with deduce, on files, and through the CLI."""

import itertools
import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from meldtekst.anonymize import anonymize_file, deidentify, deidentify_in_context, find_spans, is_valid_bsn
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


# --------------------------------------------------------------------------- issue #20: what the old rules missed
# Each canary failed before the rules for case numbers, ages, lower-case postcodes and names, foreign full
# names and dates without a year were added; everything in them is invented.

MARKED = Path(__file__).resolve().parents[1] / "data" / "deid" / "marked_spans.jsonl"


@pytest.mark.parametrize(
    ("text", "secret", "category"),
    [
        ("Veilig Thuis registreerde het onder VT-2022-88812 vorige week.", "88812", "NUMMER"),
        ("Het gaat om zaaknummer C-889-2021 bij de rechtbank.", "889", "NUMMER"),
        ("Zie dossier 2023-004512 voor de stukken.", "004512", "NUMMER"),
        ("Ons kenmerk 24/0871, graag vermelden.", "0871", "NUMMER"),
        ("Onze 8-jarige wil niet meer naar school.", "jarige", "LEEFTIJD"),
        ("Mijn dochter is twaalf jaar en heeft autisme.", "twaalf", "LEEFTIJD"),
        ("Ik weet het niet meer, hij is 9 en zit thuis.", "9", "LEEFTIJD"),
        ("Het gaat om een meisje van elf dat niet mee mocht.", "elf", "LEEFTIJD"),
        ("Wij wonen op 3581 cd in de nieuwe wijk.", "3581", "POSTCODE"),
        ("mijn zoon jens wil niet meer naar school", "jens", "PERSOON"),
        ("vanochtend belde juf anouk weer over het rooster", "anouk", "PERSOON"),
        ("mats en jens zitten allebei thuis, ik kan niet meer", "mats", "PERSOON"),
        ("Oleksandr Kovalenko belde gisteren over zijn zoon.", "Kovalenko", "PERSOON"),
        ("Op 3 april kwam de brief van leerplicht.", "april", "DATUM"),
    ],
)
def test_canaries_for_what_was_missed(text, secret, category):
    result = deidentify(text)
    assert re.search(rf"(?<!\w){re.escape(secret)}(?!\w)", result.text) is None, result.text
    assert result.counts.get(category, 0) >= 1, result


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Tip: vraag altijd het OPP op bij school.", "Tip"),
        ("Casus Aisha Mohamed (15) bleef thuis.", "Casus"),
        ("Betreft Levi Scholten, leerling van groep 7.", "Betreft"),
        ("Gezinsvoogd werkt in Den Haag, dat wist ik niet.", "Gezinsvoogd werkt in"),
    ],
)
def test_ordinary_capitalised_words_are_kept(text, kept):
    assert deidentify(text).text.startswith(kept)


def test_theme_words_group_numbers_and_durations_are_kept():
    text = (
        "Veilig Thuis, de Raad voor de Kinderbescherming, Leerplicht, de Inspectie, het samenwerkingsverband en de "
        "GGZ zaten aan tafel. Hij is thuiszitter, heeft autisme, zit in groep 8 en zit al twee jaar thuis. In "
        "schooljaar 2023-2024 was hij 3 dagen weg. Volgens artikel 8 mag dat niet. Het cijfer was 7."
    )
    assert deidentify(text).text == text


def _marked_scores() -> tuple[float, dict[str, float], float]:
    """Share of marked spans replaced in full (overall, per kind) and share of ordinary words replaced."""
    full, total = Counter(), Counter()
    words = lost = 0
    for line in MARKED.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        text = row["text"]
        covered = bytearray(len(text))
        for span in find_spans(text):
            covered[span.start : span.end] = b"\x01" * (span.end - span.start)
        personal = bytearray(len(text))
        for span in row["spans"] + row.get("ignore", []):
            personal[span["start"] : span["end"]] = b"\x01" * (span["end"] - span["start"])
        for span in row["spans"]:
            total[span["kind"]] += 1
            full[span["kind"]] += all(covered[i] for i in range(span["start"], span["end"]) if text[i].isalnum())
        for m in re.finditer(r"\w+", text):
            if not any(personal[m.start() : m.end()]):
                words += 1
                lost += any(covered[m.start() : m.end()])
    per_kind = {k: full[k] / total[k] for k in total}
    return sum(full.values()) / sum(total.values()), per_kind, lost / words


def test_marked_set_meets_the_goal():
    overall, per_kind, over = _marked_scores()
    assert len(per_kind) == 12
    assert overall >= 0.97, overall
    assert all(v >= 0.85 for v in per_kind.values()), per_kind
    assert over <= 0.02, over


REPORT = (
    "Onze zoon Thijmen is 8 en zit in groep 5 van obs De Wilgenkamp. Gesprek met Kacper Nowak van het "
    "wijkteam. Veilig Thuis: VT-2022-88812. Wij wonen op 3581 cd in Valkenmoer."
)


@pytest.mark.parametrize(
    ("fragment", "secrets"),
    [
        ("thijmen wil niet meer, zei kacper", ("thijmen", "kacper")),  # capitalised once in the report, lower here
        ("volgens nowak kan het niet anders", ("nowak",)),  # mentioned once elsewhere, in another form
        ("hij is een 8-jarige jongen", ("jarige",)),
        ("ze is twaalf jaar en wil leren", ("twaalf",)),
        ("het dossier VT-2022-88812 is zoek", ("88812",)),
        ("we wonen op 3581 cd", ("3581",)),
        ("in valkenmoer is geen plek", ("valkenmoer",)),
    ],
)
def test_deidentify_in_context(fragment, secrets):
    result = deidentify_in_context(fragment, REPORT)
    for secret in secrets:
        assert secret not in result.text.lower(), result.text


def test_deidentify_in_context_keeps_group_numbers():
    # "Thijmen is 8" in the report says nothing about the 8 of "groep 8" in the quote
    assert deidentify_in_context("hij zat in groep 8 en toen ging het mis", REPORT).text.endswith(
        "groep 8 en toen ging het mis"
    )


def _bsn(digits: list[int]) -> str:
    """Eight digits and a ninth that passes the elfproef ("" when no digit fits)."""
    check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
    return "".join(map(str, digits)) + str(check) if check < 10 and any(digits) else ""


def _iban(bank: str, account: str) -> str:
    moved = "".join(str(int(c, 36)) for c in bank + account + "NL00")
    return f"NL{98 - int(moved) % 97:02d}{bank}{account}"


_PHONE = st.builds(
    lambda fmt, d: fmt.format(d[:2], d[2:4], d[4:6], d[6:]),
    st.sampled_from(["06-{}{}{}{}", "06 {}{} {}{}", "06{}{}{}{}", "+31 6 {}{}{}{}", "+316{}{}{}{}", "06 {}{}{}{}"]),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)
_BSN = st.builds(_bsn, st.lists(st.integers(0, 9), min_size=8, max_size=8)).filter(bool)
_IBAN = st.builds(
    lambda bank, acct, spaced: (
        " ".join(_iban(bank, acct)[i : i + 4] for i in range(0, 18, 4)) if spaced else _iban(bank, acct)
    ),
    st.sampled_from(["ABNA", "INGB", "RABO", "TRIO", "SNSB", "KNAB"]),
    st.text(alphabet="0123456789", min_size=10, max_size=10),
    st.booleans(),
)
_SURROUNDING = st.text(alphabet=st.characters(categories=["L", "P", "Zs"], exclude_characters="@_"), max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=_SURROUNDING, value=st.one_of(_PHONE, _BSN, _IBAN), after=_SURROUNDING)
def test_no_digit_run_of_a_planted_number_survives(before, value, after):
    result = deidentify(f"{before} {value} {after}", use_deduce=False)
    for run in re.findall(r"\d{2,}", value):
        assert run not in result.text, (value, result.text)
