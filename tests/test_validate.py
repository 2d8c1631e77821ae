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
    assert r.rows == 2 and r.empty_texts == 1 and r.duplicate_ids == ["a"]
    assert r.label_counts["autisme"] == 1 and r.unlabelled_rows == 1
    # `train` refuses an empty text in labelled data, so validate reports it as an error too
    assert r.errors == [f"{p}, row 2, column 'tekst': empty text in labelled data"]


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


def test_trainability_warning_counts_the_train_split_like_train_does(tmp_path):
    rows = [{"id": str(i), "tekst": "x", "labels": ["autisme"], "split": "train"} for i in range(3)]
    rows += [{"id": f"d{i}", "tekst": "x", "labels": ["adhd"], "split": "dev"} for i in range(3)]
    r = validate_file(_jsonl(tmp_path, rows))
    assert r.ok
    warning = next(w for w in r.warnings if "would refuse" in w)
    # 22 themes, autisme has 3 train reports; adhd's 3 are dev reports and do not count
    assert "in its 'train' rows for 21 theme(s)" in warning and "autisme" not in warning


def test_missing_ids_are_listed_as_errors(tmp_path):
    p = _jsonl(tmp_path, [{"id": "a", "tekst": "x"}, {"id": None, "tekst": "y"}, {"tekst": "z"}, {}])
    r = validate_file(p)
    assert [e.split(": ", 1)[0] for e in r.errors] == [f"{p}, row 2, column 'id'", f"{p}, row 3, column 'id'"]
