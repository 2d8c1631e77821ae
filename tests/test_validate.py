import json

import pytest

from meldtekst.errors import InputError
from meldtekst.validate import load_labelled, validate_file


def _jsonl(tmp_path, rows):
    p = tmp_path / "l.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return p


def test_unknown_theme_names_file_row_column(tmp_path):
    p = _jsonl(
        tmp_path, [{"id": "a", "tekst": "x", "labels": []}, {"id": "b", "tekst": "y", "labels": ["thuiszitten"]}]
    )
    report = validate_file(p)
    assert not report.ok
    assert "row 2" in report.errors[0] and "column 'labels'" in report.errors[0] and "l.jsonl" in report.errors[0]
    assert "did you mean 'thuiszitter'" in report.errors[0]


def test_labels_as_string_in_jsonl_is_an_error(tmp_path):
    p = _jsonl(tmp_path, [{"id": "a", "tekst": "x", "labels": "autisme"}])
    with pytest.raises(InputError, match="JSON list"):
        load_labelled(p)


def test_csv_labels_separated_by_semicolon(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text('id,tekst,labels\n1,hallo,"autisme;adhd"\n2,hoi,\n')
    data = load_labelled(p)
    assert data.label_counts()["autisme"] == 1 and data.label_counts()["adhd"] == 1
    assert data.y[1].sum() == 0


def test_missing_text_column_suggests(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("id,tekts\n1,hallo\n")
    with pytest.raises(InputError, match="did you mean 'tekts'"):
        validate_file(p)


def test_summary_counts(tmp_path):
    p = _jsonl(
        tmp_path,
        [
            {"id": "a", "tekst": "een twee", "labels": ["autisme"]},
            {"id": "a", "tekst": "  ", "labels": []},
        ],
    )
    r = validate_file(p)
    assert r.ok and r.rows == 2 and r.empty_texts == 1 and r.duplicate_ids == ["a"]
    assert r.label_counts["autisme"] == 1 and r.unlabelled_rows == 1


def test_ids_default_to_row_numbers(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("tekst,labels\nhallo,autisme\n")
    assert load_labelled(p).ids == ["1"]


def test_corpus_file_validates():
    from pathlib import Path

    corpus = Path(__file__).resolve().parents[1] / "data" / "meldingen.jsonl"
    r = validate_file(corpus)
    assert r.ok, r.errors
    assert r.rows >= 500
