"""REFI-QDA export and import: schema-valid projects, round trips, edits made in another tool,
and one clear error line for each kind of broken project."""

from __future__ import annotations

import json
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meldtekst.anonymize import deidentify
from meldtekst.cli import app
from meldtekst.codebook import load_codebook
from meldtekst.explain import format_uitleg
from meldtekst.interop.qdpx import NS, deidentify_with_offsets, read_qdpx, schema_errors
from meldtekst.io import read_all, write_table

runner = CliRunner()
Q = f"{{{NS}}}"

REPORTS = [
    {
        "id": "M-1",
        "datum": "2024-03-01",
        "rol": "ouder",
        "tekst": "Onze zoon zit sinds de herfstvakantie thuis. De school zegt handelingsverlegen te zijn.",
        "themes": ["handelingsverlegenheid", "thuiszitter", "sector_onderwijs"],
        "evidence": {
            "handelingsverlegenheid": "De school zegt handelingsverlegen te zijn.",
            "thuiszitter": "Onze zoon zit sinds de herfstvakantie thuis.",
            "sector_onderwijs": "niet in deze tekst",
        },
        "explanations": {
            "thuiszitter": [
                {"text": "zit sinds de herfstvakantie thuis", "start": 10, "end": 43, "weight": 0.41},
                {"text": "zoon", "start": 5, "end": 9, "weight": 0.02},
            ],
            "handelingsverlegenheid": [{"text": "handelingsverlegen", "start": 60, "end": 78, "weight": 0.6}],
        },
    },
    {
        "id": "M-2",
        "datum": "2024-03-02",
        "rol": "ouder",
        "tekst": "Mijn dochter met autisme 😢 werd opgesloten in een prikkelarm hok.\nDe juf vond dat normaal.",
        "themes": ["onveilige_situatie", "autisme"],
        "evidence": {"onveilige_situatie": "Mijn dochter met autisme 😢 werd opgesloten in een prikkelarm hok."},
        "explanations": {"autisme": [{"text": "autisme", "start": 17, "end": 24, "weight": 0.9}]},
    },
    {
        "id": "M-3",
        "datum": "",
        "rol": "professional",
        "tekst": "Geen bijzonderheden.",
        "themes": [],
        "evidence": {},
        "explanations": {},
    },
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Export reads only the model's name and version from its meta.json."""
    path = tmp_path_factory.mktemp("models") / "mini"
    path.mkdir()
    (path / "meta.json").write_text(json.dumps({"name": "mini", "version": "7"}))
    return path


@pytest.fixture
def tagged(tmp_path: Path) -> Path:
    path = tmp_path / "getagd.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in REPORTS), encoding="utf-8")
    return path


def export(src: Path, out: Path, model_dir: Path, *args: str) -> None:
    r = runner.invoke(app, ["export-qdpx", str(src), "-o", str(out), "--model", str(model_dir), *args])
    assert r.exit_code == 0, r.output


def import_rows(project: Path, out: Path, *args: str) -> list[dict]:
    r = runner.invoke(app, ["import-qdpx", str(project), "-o", str(out), *args])
    assert r.exit_code == 0, r.output
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def qde(project: Path) -> ET.Element:
    with zipfile.ZipFile(project) as zf:
        return ET.fromstring(zf.read("project.qde"))


def rewrite(project: Path, root: ET.Element, out: Path) -> Path:
    """Copy ``project`` with a changed project.qde, as another tool would save it."""
    ET.register_namespace("", NS)
    with zipfile.ZipFile(project) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = (
                ET.tostring(root, encoding="utf-8", xml_declaration=True) if name == "project.qde" else src.read(name)
            )
            dst.writestr(name, data)
    return out


def test_export_is_a_valid_refi_qda_project(tmp_path, tagged, model_dir):
    out = tmp_path / "p.qdpx"
    export(tagged, out, model_dir)
    root = qde(out)
    assert schema_errors(root) == []
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        texts = {n: zf.read(n).decode("utf-8") for n in names if n.startswith("sources/")}
    assert names[0] == "project.qde" and len(texts) == 3 and all(n.endswith(".txt") for n in texts)
    users = root.findall(f"{Q}Users/{Q}User")
    assert [u.get("name") for u in users] == ["meldtekst mini v7"]
    codes = root.findall(f".//{Q}Code[@isCodable='true']")
    cb = load_codebook()
    assert [c.get("name") for c in codes] == list(cb.ids)
    assert len({c.get("color") for c in codes}) == len(cb.groups)
    assert codes[0].find(f"{Q}Description").text.startswith(cb.themes[0].name)
    variables = {v.get("name"): v.get("typeOfVariable") for v in root.findall(f"{Q}Variables/{Q}Variable")}
    assert variables == {"datum": "Date", "rol": "Text"}
    sources = root.findall(f"{Q}Sources/{Q}TextSource")
    assert [s.get("name") for s in sources] == ["M-1", "M-2", "M-3"]
    by_path = {s.get("name"): texts["sources/" + s.get("plainTextPath").removeprefix("internal://")] for s in sources}
    assert by_path["M-2"] == REPORTS[1]["tekst"]
    for source, report in zip(sources, REPORTS, strict=True):
        text = by_path[source.get("name")]
        selections = source.findall(f"{Q}PlainTextSelection")
        assert len(selections) == len(report["themes"])
        for sel in selections:
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            assert 0 <= start < end <= len(text)
            assert sel.find(f"{Q}Coding").get("creatingUser") == users[0].get("guid")
    m1 = {s.find(f"{Q}Description").text.split(":")[0]: s for s in sources[0].findall(f"{Q}PlainTextSelection")}
    evidence = m1["thuiszitter"]
    assert by_path["M-1"][int(evidence.get("startPosition")) : int(evidence.get("endPosition"))] == (
        "Onze zoon zit sinds de herfstvakantie thuis."
    )
    whole = m1["sector_onderwijs"]  # evidence not in the text: the whole report is coded
    assert (int(whole.get("startPosition")), int(whole.get("endPosition"))) == (0, len(by_path["M-1"]))
    # an emoji is one code point: the selection after it still lands on its sentence
    (sel,) = [s for s in sources[1].findall(f"{Q}PlainTextSelection") if "onveilige" in s.find(f"{Q}Description").text]
    assert by_path["M-2"][int(sel.get("startPosition")) : int(sel.get("endPosition"))].endswith("prikkelarm hok.")


def test_round_trip_gives_the_same_labels(tmp_path, tagged, model_dir):
    out = tmp_path / "p.qdpx"
    export(tagged, out, model_dir, "--codes", "themes+explanations")
    assert schema_errors(qde(out)) == []
    rows = import_rows(out, tmp_path / "labels.jsonl", "--coder", "all")
    assert [r["id"] for r in rows] == ["M-1", "M-2", "M-3"]
    assert [r["tekst"] for r in rows] == [r["tekst"] for r in REPORTS]
    assert [r["labels"] for r in rows] == [r["themes"] for r in REPORTS]
    assert import_rows(out, tmp_path / "l2.jsonl", "--coder", "meldtekst mini v7") == rows
    # the default, humans, leaves the model's codings out: no labels, and it says so
    r = runner.invoke(app, ["import-qdpx", str(out), "-o", str(tmp_path / "h.csv")])
    assert r.exit_code == 0 and "--coder all" in r.output
    assert read_all(tmp_path / "h.csv")["labels"].fillna("").tolist() == ["", "", ""]


def test_explanation_spans_become_selections(tmp_path, tagged, model_dir):
    out = tmp_path / "p.qdpx"
    export(tagged, out, model_dir, "--codes", "themes+explanations")
    source = qde(out).find(f"{Q}Sources/{Q}TextSource")
    notes = [s.find(f"{Q}Description").text for s in source.findall(f"{Q}PlainTextSelection")]
    assert len(notes) == 3 + 3 and "thuiszitter: uitleg +0.41 (meldtekst mini v7)" in notes


def test_table_input_with_uitleg_column(tmp_path, model_dir):
    """A CSV from `tag --explain`: themes joined by ';', evidence and `uitleg` as text."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "id": [r["id"] for r in REPORTS],
            "tekst": [r["tekst"] for r in REPORTS],
            "themes": [";".join(r["themes"]) for r in REPORTS],
            "evidence": [" | ".join(f"{t}: {s}" for t, s in r["evidence"].items()) for r in REPORTS],
            "uitleg": [format_uitleg(r["explanations"]) for r in REPORTS],
        }
    )
    src = tmp_path / "getagd.csv"
    write_table(frame, src)
    out = tmp_path / "p.qdpx"
    export(src, out, model_dir, "--codes", "themes+explanations")
    root = qde(out)
    assert schema_errors(root) == [] and root.find(f"{Q}Variables") is None
    sels = root.find(f"{Q}Sources/{Q}TextSource").findall(f"{Q}PlainTextSelection")
    spans = {(int(s.get("startPosition")), int(s.get("endPosition"))) for s in sels}
    assert {(10, 43), (5, 9), (60, 78), (0, 44)} <= spans
    rows = import_rows(out, tmp_path / "l.jsonl", "--coder", "all")
    assert [r["labels"] for r in rows] == [r["themes"] for r in REPORTS]


def test_edited_project_imports_as_edited(tmp_path, tagged, model_dir):
    out = tmp_path / "p.qdpx"
    export(tagged, out, model_dir)
    root = qde(out)
    # a researcher removes the code `autisme` (and with it its codings) ...
    autisme = root.find(f".//{Q}Code[@name='autisme']")
    parent = next(p for p in root.iter() if autisme in list(p))
    parent.remove(autisme)
    for source in root.iter(f"{Q}TextSource"):
        for sel in source.findall(f"{Q}PlainTextSelection"):
            if sel.find(f"{Q}Coding/{Q}CodeRef").get("targetGUID") == autisme.get("guid"):
                source.remove(sel)
    # ... and, as user Anna, codes a sentence of M-3 as thuiszitter
    anna = "0b4e7a1c-2f3d-4e5f-8a9b-0c1d2e3f4a5b"
    ET.SubElement(root.find(f"{Q}Users"), f"{Q}User", guid=anna, name="Anna")
    thuis = root.find(f".//{Q}Code[@name='thuiszitter']").get("guid")
    m3 = root.findall(f"{Q}Sources/{Q}TextSource")[2]
    sel = ET.Element(
        f"{Q}PlainTextSelection",
        guid="1b4e7a1c-2f3d-4e5f-8a9b-0c1d2e3f4a5b",
        startPosition="0",
        endPosition="4",
        creatingUser=anna,
    )
    coding = ET.SubElement(sel, f"{Q}Coding", guid="2b4e7a1c-2f3d-4e5f-8a9b-0c1d2e3f4a5b", creatingUser=anna)
    ET.SubElement(coding, f"{Q}CodeRef", targetGUID=thuis)
    m3.insert(0, sel)
    edited = rewrite(out, root, tmp_path / "edited.qdpx")
    assert schema_errors(qde(edited)) == []
    humans = import_rows(edited, tmp_path / "h.jsonl")
    assert [r["labels"] for r in humans] == [[], [], ["thuiszitter"]]
    assert import_rows(edited, tmp_path / "a.jsonl", "--coder", "anna") == humans
    everyone = import_rows(edited, tmp_path / "all.jsonl", "--coder", "all")
    assert [r["labels"] for r in everyone] == [REPORTS[0]["themes"], ["onveilige_situatie"], ["thuiszitter"]]


def test_unknown_codes_are_listed_then_refused_unless_ignored(tmp_path, tagged, model_dir):
    out = tmp_path / "p.qdpx"
    export(tagged, out, model_dir)
    root = qde(out)
    ET.SubElement(
        root.find(f"{Q}CodeBook/{Q}Codes"),
        f"{Q}Code",
        guid="3b4e7a1c-2f3d-4e5f-8a9b-0c1d2e3f4a5b",
        name="Nieuw thema",
        isCodable="true",
    )
    sel = root.find(f"{Q}Sources/{Q}TextSource/{Q}PlainTextSelection")
    sel.find(f"{Q}Coding/{Q}CodeRef").set("targetGUID", "3b4e7a1c-2f3d-4e5f-8a9b-0c1d2e3f4a5b")
    edited = rewrite(out, root, tmp_path / "edited.qdpx")
    r = runner.invoke(app, ["import-qdpx", str(edited), "-o", str(tmp_path / "x.jsonl"), "--coder", "all"])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1 and "'Nieuw thema' (1 coding)" in r.output
    assert "--ignore-unknown" in r.output and not (tmp_path / "x.jsonl").exists()
    rows = import_rows(edited, tmp_path / "x.jsonl", "--coder", "all", "--ignore-unknown")
    assert rows[0]["labels"] == REPORTS[0]["themes"][1:]


def _file(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: _file(p, "id,tekst\n1,hoi\n"), "not a REFI-QDA project"),
        (lambda p: _zip(p, {"sources/a.txt": b"hoi"}), "no project.qde"),
        (lambda p: _zip(p, {"project.qde": b"<Project name='x'><Users>"}), "not valid XML"),
        (lambda p: _zip(p, {"project.qde": b"<CodeBook/>"}), "root element <CodeBook>"),
        (
            lambda p: _zip(
                p,
                {
                    "project.qde": (
                        f'<Project xmlns="{NS}" name="x"><Sources><TextSource guid="{"a" * 8}-{"a" * 4}-{"a" * 4}-'
                        f'{"a" * 4}-{"a" * 12}" name="M-1" plainTextPath="internal://weg.txt"/></Sources></Project>'
                    ).encode()
                },
            ),
            "internal://weg.txt is missing",
        ),
    ],
)
def test_bad_projects_give_one_clear_line(tmp_path, make, needle):
    bad = make(tmp_path / "bad.qdpx")
    r = runner.invoke(app, ["import-qdpx", str(bad), "-o", str(tmp_path / "x.jsonl")])
    assert r.exit_code == 1, r.output
    assert r.output.startswith("Error:") and needle in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_export_mistakes_give_one_clear_line(tmp_path, tagged, model_dir):
    plain = tmp_path / "plain.jsonl"
    plain.write_text(json.dumps({"id": "1", "tekst": "hoi", "themes": []}) + "\n")
    untagged = tmp_path / "untagged.jsonl"
    untagged.write_text(json.dumps({"id": "1", "tekst": "hoi"}) + "\n")
    for args, needle in [
        ([str(plain), "-o", str(tmp_path / "p.qdpx"), "--codes", "themes+explanations"], "tag --explain"),
        ([str(untagged), "-o", str(tmp_path / "p.qdpx")], "no 'themes' column"),
        ([str(tagged), "-o", str(tmp_path / "p.zip")], "must end in .qdpx"),
        ([str(tagged), "-o", str(tmp_path / "p.qdpx"), "--codes", "alles"], "--codes must be one of"),
        ([str(tagged), "-o", str(tmp_path / "p.qdpx"), "--variable", "leeftijd"], "no variable column"),
    ]:
        r = runner.invoke(app, ["export-qdpx", *args, "--model", str(model_dir)])
        assert r.exit_code == 1, (args, r.output)
        assert r.output.startswith("Error:") and needle in r.output and len(r.output.strip().splitlines()) == 1


def test_anonymized_export_keeps_selections_on_their_words(tmp_path, tagged, model_dir, monkeypatch):
    import meldtekst.anonymize as anonymize

    real = anonymize.find_spans
    monkeypatch.setattr(anonymize, "find_spans", lambda text, **kw: real(text, use_deduce=False))
    text = "Bel 06-12345678 of mail jan@voorbeeld.nl. Onze zoon zit sinds de herfstvakantie thuis."
    new, counts, mapper = deidentify_with_offsets(text)
    assert new == deidentify(text, use_deduce=False).text
    assert counts == {"TELEFOON": 1, "EMAIL": 1}
    start = text.index("zit sinds")
    s, e = mapper(start, start + len("zit sinds de herfstvakantie thuis"))
    assert new[s:e] == "zit sinds de herfstvakantie thuis"
    assert new[slice(*mapper(4, 9))] == "[TELEFOON]"  # a range inside a replaced number
    decomposed = unicodedata.normalize("NFD", "Café De Klimop. Onze zoon zit thuis.")
    new, _, mapper = deidentify_with_offsets(decomposed)
    i = decomposed.index("zit thuis")
    assert new[slice(*mapper(i, i + 9))] == "zit thuis"

    phoned = tmp_path / "phoned.jsonl"
    report = dict(REPORTS[0], tekst="Bel mij op 06-12345678. " + REPORTS[0]["tekst"])
    report["explanations"] = {}
    phoned.write_text(json.dumps(report, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "anon.qdpx"
    r = runner.invoke(app, ["export-qdpx", str(phoned), "-o", str(out), "--model", str(model_dir), "--anonymize"])
    assert r.exit_code == 0, r.output
    assert "de-identified" in r.output and "TELEFOON 1" in r.output
    root = qde(out)
    assert "gede-identificeerd" in root.find(f"{Q}Description").text
    project = read_qdpx(out)
    (source,) = project.sources
    assert "06-12345678" not in source.text and source.text.startswith("Bel mij op [TELEFOON].")
    starts = {(c.start, c.end) for c in source.codings}
    i = source.text.index("Onze zoon")
    assert (i, i + len("Onze zoon zit sinds de herfstvakantie thuis.")) in starts


def test_not_anonymized_is_said_out_loud(tmp_path, tagged, model_dir):
    r = runner.invoke(app, ["export-qdpx", str(tagged), "-o", str(tmp_path / "p.qdpx"), "--model", str(model_dir)])
    assert r.exit_code == 0 and "not de-identified" in r.output
    assert "NIET gede-identificeerd" in qde(tmp_path / "p.qdpx").find(f"{Q}Description").text


def test_windows_line_breaks_and_an_empty_file(tmp_path, model_dir):
    text = "Eerste regel.\r\nOnze zoon zit thuis.\r\nLaatste regel."
    src = tmp_path / "crlf.jsonl"
    row = {"id": "1", "tekst": text, "themes": ["thuiszitter"], "evidence": {"thuiszitter": "Onze zoon zit thuis."}}
    src.write_text(json.dumps(row) + "\n", encoding="utf-8")
    export(src, tmp_path / "crlf.qdpx", model_dir)
    (source,) = read_qdpx(tmp_path / "crlf.qdpx").sources
    assert source.text == text.replace("\r\n", "\n")
    (coding,) = source.codings
    assert source.text[coding.start : coding.end] == "Onze zoon zit thuis."
    empty = tmp_path / "leeg.csv"
    empty.write_text("id,tekst,themes,evidence\n")
    export(empty, tmp_path / "leeg.qdpx", model_dir)
    assert schema_errors(qde(tmp_path / "leeg.qdpx")) == []
    assert import_rows(tmp_path / "leeg.qdpx", tmp_path / "leeg.jsonl", "--coder", "all") == []


# ------------------------------------------------------------- hostile archives

GUID = "aaaaaaaa-aaaa-aaaa-aaaa-{:012d}"


def _sources_project(n: int, member: str = "a.txt") -> bytes:
    """A project whose ``n`` sources all name the same text file."""
    sources = "".join(
        f'<TextSource guid="{GUID.format(i)}" name="M-{i}" plainTextPath="internal://{member}"/>' for i in range(n)
    )
    return f'<Project xmlns="{NS}" name="x"><Sources>{sources}</Sources></Project>'.encode()


def _deflated(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _claim_size(path: Path, member: str, size: int) -> Path:
    """Rewrite the sizes the zip's headers state for ``member`` (local and central), leaving its data."""
    raw = bytearray(path.read_bytes())
    name = member.encode()
    for sig, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = raw.find(sig)
        while at >= 0:
            n = int.from_bytes(raw[at + name_len_at : at + name_len_at + 2], "little")
            if raw[at + name_at : at + name_at + n] == name:
                raw[at + size_at : at + size_at + 4] = size.to_bytes(4, "little")
            at = raw.find(sig, at + 4)
    path.write_bytes(bytes(raw))
    return path


def _import_error(project: Path, tmp_path: Path) -> str:
    r = runner.invoke(app, ["import-qdpx", str(project), "-o", str(tmp_path / "x.jsonl")])
    assert r.exit_code == 1, r.output
    assert r.output.startswith("Error:") and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1, r.output
    assert not (tmp_path / "x.jsonl").exists()
    return r.output


def test_codes_nested_50000_deep_are_one_line(tmp_path):
    n = 50_000
    codes = "".join(f'<Code guid="{GUID.format(i)}" name="c{i}" isCodable="true">' for i in range(n)) + "</Code>" * n
    xml = f'<Project xmlns="{NS}" name="x"><CodeBook><Codes>{codes}</Codes></CodeBook></Project>'
    project = _deflated(tmp_path / "diep.qdpx", {"project.qde": xml.encode()})
    assert "nests elements more than 200 levels deep" in _import_error(project, tmp_path)


def test_codes_nested_a_few_levels_are_all_read(tmp_path):
    codes = "".join(f'<Code guid="{GUID.format(i)}" name="c{i}" isCodable="true">' for i in range(50)) + "</Code>" * 50
    xml = f'<Project xmlns="{NS}" name="x"><CodeBook><Codes>{codes}</Codes></CodeBook></Project>'
    project = read_qdpx(_deflated(tmp_path / "p.qdpx", {"project.qde": xml.encode()}))
    assert len(project.codes) == 50 and project.codes[GUID.format(49)] == "c49"


def test_total_unpacked_size_is_capped(tmp_path, monkeypatch):
    """Many sources naming one text: each read counts, so a small archive cannot grow without bound."""
    text = ("Onze zoon zit thuis. " * 5000).encode()  # 105 KB, a few hundred bytes packed
    project = _deflated(tmp_path / "veel.qdpx", {"project.qde": _sources_project(30), "sources/a.txt": text})
    assert project.stat().st_size < 20_000
    monkeypatch.setenv("MELDTEKST_QDPX_MAX_BYTES", "1000000")
    out = _import_error(project, tmp_path)
    assert "past 1000000 bytes unpacked" in out and "MELDTEKST_QDPX_MAX_BYTES" in out
    monkeypatch.setenv("MELDTEKST_QDPX_MAX_BYTES", "4000000")  # raised: read
    rows = read_qdpx(project).sources
    assert len(rows) == 30 and rows[0].text == text.decode()


def test_one_member_above_the_member_cap(tmp_path):
    from meldtekst.errors import InputError
    from meldtekst.interop.qdpx import UnpackLimits

    project = _deflated(tmp_path / "groot.qdpx", {"project.qde": _sources_project(1), "sources/a.txt": b"x" * 5000})
    with pytest.raises(InputError, match=r"'sources/a\.txt' in the project is larger than 4000 bytes"):
        read_qdpx(project, limits=UnpackLimits(total=10**9, member=4000))


def test_compression_ratio_is_capped(tmp_path):
    """A member packed ~1000:1 (a zip bomb's ratio) stops once it passes the ratio floor."""
    bomb = b"\0" * (8 << 20)
    project = _deflated(tmp_path / "bom.qdpx", {"project.qde": _sources_project(1), "sources/a.txt": bomb})
    assert "times its packed size" in _import_error(project, tmp_path)


def test_member_whose_header_lies_about_its_size(tmp_path):
    """The header says 100 bytes, the data inflate to 64 MB: one line, and memory stays small
    (reading in chunks, not trusting the header; the old code inflated it all at once)."""
    import tracemalloc

    from meldtekst.errors import InputError

    project = _deflated(
        tmp_path / "leugen.qdpx", {"project.qde": _sources_project(1), "sources/a.txt": b"\0" * (64 << 20)}
    )
    _claim_size(project, "sources/a.txt", 100)
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"'sources/a\.txt' in the project cannot be unpacked"):
            read_qdpx(project)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, peak
    assert "cannot be unpacked" in _import_error(project, tmp_path)


def test_bad_size_limit_setting_is_one_line(tmp_path, monkeypatch):
    project = _deflated(tmp_path / "p.qdpx", {"project.qde": _sources_project(1), "sources/a.txt": b"hoi"})
    monkeypatch.setenv("MELDTEKST_QDPX_MAX_BYTES", "veel")
    assert "MELDTEKST_QDPX_MAX_BYTES must be a number of bytes" in _import_error(project, tmp_path)


def test_source_in_an_unknown_encoding_is_read(tmp_path):
    """Bytes neither UTF-8 nor cp1252 know (0x81) become U+FFFD instead of a traceback."""
    project = _deflated(tmp_path / "p.qdpx", {"project.qde": _sources_project(1), "sources/a.txt": b"caf\xe9 \x81 x"})
    assert read_qdpx(project).sources[0].text == "café \ufffd x"
