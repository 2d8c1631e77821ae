"""Explanations: occlusion spans with offsets into the original text, the linear shortcut
against plain occlusion, `tag --explain` columns, and `meldtekst explain`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from meldtekst.cli import app
from meldtekst.codebook import load_codebook
from meldtekst.explain import (
    Candidate,
    candidate_spans,
    explain_text,
    explain_texts,
    format_uitleg,
    occlusion_scores,
    remove_spans,
    render_html,
    top_spans,
)
from meldtekst.io import read_all, write_table
from meldtekst.models.store import ThemeModelDir, save_model_dir
from meldtekst.tagging import OUTPUT_COLUMNS, result_columns, tag_texts

runner = CliRunner()

THUIS = "Onze zoon 😢 zit sinds de herfstvakantie thuis. De juf zegt dat ze handelingsverlegen is, echt waar."


class KeywordScorer:
    """A stand-in for any model kind: only `predict_proba(list[str])`, no linear internals."""

    def __init__(self, keywords: dict[int, str]) -> None:
        self.keywords = keywords

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        out = np.full((len(texts), len(load_codebook())), 0.1)
        for i, text in enumerate(texts):
            for j, word in self.keywords.items():
                out[i, j] = 0.9 if word in text.lower() else 0.1
        return out


def _dir_model(estimator: object, threshold: float = 0.5, name: str = "stub") -> ThemeModelDir:
    cb = load_codebook()
    meta = {
        "kind": "linear",
        "name": name,
        "version": "0",
        "codebook_version": cb.version,
        "theme_ids": list(cb.ids),
        "thresholds": dict.fromkeys(cb.ids, threshold),
        "review_band": 0.0,
    }
    return ThemeModelDir(path=None, estimator=estimator, meta=meta)


@pytest.fixture(scope="session")
def linear(corpus_rows: list[dict], tmp_path_factory: pytest.TempPathFactory) -> tuple[ThemeModelDir, Path]:
    """A small real `fast`-style model (seconds to fit), in memory and as a model directory."""
    from meldtekst.models.linear import LinearThemeTagger

    cb = load_codebook()
    rows = [r for r in corpus_rows if r["split"] == "train"][:160]
    y = np.array([[t in r["labels"] for t in cb.ids] for r in rows], dtype=int)
    est = LinearThemeTagger(char_ngrams=(3, 4), max_char_features=3000, max_word_features=3000).fit(
        [r["tekst"] for r in rows], y
    )
    model = _dir_model(est, threshold=0.35, name="mini")
    path = save_model_dir(model, tmp_path_factory.mktemp("models") / "mini")
    return model, path


@pytest.fixture(scope="session")
def test_texts(corpus_rows: list[dict]) -> list[str]:
    """Six test-split reports of 250-700 characters: several sentences, quick to explain."""
    return [r["tekst"] for r in corpus_rows if r["split"] == "test" and 250 <= len(r["tekst"]) <= 700][:6]


# ---------------------------------------------------------------- candidates


def test_candidates_are_words_phrases_and_sentences_with_original_offsets():
    cands = candidate_spans(THUIS)
    pieces = {THUIS[c.start : c.end] for c in cands}
    assert {"zoon", "herfstvakantie thuis", "sinds de herfstvakantie", "handelingsverlegen"} <= pieces
    assert "Onze zoon 😢 zit sinds de herfstvakantie thuis." in pieces  # a whole sentence
    assert all(p == p.strip() and p for p in pieces)
    assert "😢" in pieces  # an emoji is a token and can carry meaning; offsets stay exact
    assert max(c.words for c in cands if not c.is_sentence) == 3


def test_one_sentence_report_is_not_its_own_candidate():
    text = "De school dreigt met Veilig Thuis als wij niet meewerken"
    assert not any(c.is_sentence for c in candidate_spans(text))


def test_remove_spans_leaves_no_double_space():
    text = "De school dreigt met Veilig Thuis."
    assert remove_spans(text, [(3, 9)]) == "De dreigt met Veilig Thuis."
    assert remove_spans(text, [(0, 3), (21, 27)]) == "school dreigt met Thuis."
    assert remove_spans(text, []) == text


# ------------------------------------------------------------------- weights


def test_occlusion_works_for_any_model_kind_and_maps_offsets_past_emoji():
    cb = load_codebook()
    j = cb.ids.index("thuiszitter")
    model = _dir_model(KeywordScorer({j: "thuis"}))
    expl = explain_text(model, THUIS, k=3)
    assert expl.themes == ["thuiszitter"]
    spans = expl.spans["thuiszitter"]
    assert [s.text for s in spans] == ["thuis"]  # trimmed from its phrase and sentence to the word
    assert THUIS[spans[0].start : spans[0].end] == "thuis"
    assert spans[0].weight == pytest.approx(0.8)


def test_accents_and_decomposed_characters_keep_offsets():
    cb = load_codebook()
    j = cb.ids.index("autisme")
    text = "Hij gaat naar het cafe\u0301 en de crèche. Daar is autisme geen probleem, zei de é-coach."
    model = _dir_model(KeywordScorer({j: "autisme"}))
    (span,) = explain_text(model, text).spans["autisme"]
    assert text[span.start : span.end] == span.text == "autisme"


def test_top_spans_prefers_the_phrase_when_each_word_is_needed():
    text = "daar is NIKS mee gedaan"
    cands = [
        Candidate(8, 12, 0, 2, 1),
        Candidate(13, 16, 0, 3, 1),
        Candidate(17, 23, 0, 4, 1),
        Candidate(8, 23, 0, 2, 3),
        Candidate(0, 4, 0, 0, 1),
    ]
    w = np.array([0.5, 0.5, 0.5, 0.55, 0.02])
    (span,) = top_spans(text, cands, w, k=1)
    assert span.text == "NIKS mee gedaan"
    assert [s.text for s in top_spans(text, cands, w, k=5)] == ["NIKS mee gedaan"]  # 0.02 is noise


def test_linear_shortcut_agrees_with_scoring_the_shortened_texts(linear, test_texts):
    model, _ = linear
    for text in test_texts[:2]:
        cands = candidate_spans(text)
        full, fast = occlusion_scores(model, text, cands)
        plain = model.predict_proba([text, *(remove_spans(text, [(c.start, c.end)]) for c in cands)])
        np.testing.assert_allclose(full, plain[0], atol=1e-9)
        np.testing.assert_allclose(fast, plain[1:], atol=1e-4)


def test_explained_spans_raise_the_score(linear, test_texts):
    model, _ = linear
    expl = explain_text(model, test_texts[0], k=5)
    assert expl.themes, "the small model should assign something to a corpus report"
    for theme, spans in expl.spans.items():
        j = model.theme_ids.index(theme)
        assert 1 <= len(spans) <= 5
        assert all(s.weight > 0 and test_texts[0][s.start : s.end] == s.text for s in spans)
        without = model.predict_proba([remove_spans(test_texts[0], [(s.start, s.end) for s in spans])])[0, j]
        assert without < expl.scores[theme]


# ------------------------------------------------------------------- tagging


def test_tag_texts_without_explain_is_unchanged_and_with_explain_adds_columns(linear, test_texts):
    model, _ = linear
    plain = tag_texts(model, test_texts[:3])
    assert plain.explanations is None
    assert list(result_columns(plain, "jsonl")) == list(OUTPUT_COLUMNS)
    assert "uitleg" not in result_columns(plain, "table")
    explained = tag_texts(model, [*test_texts[:2], "  "], explain=2)
    np.testing.assert_array_equal(explained.scores[:2], plain.scores[:2])
    jsonl = result_columns(explained, "jsonl")
    assert list(jsonl)[-1] == "explanations"
    for text, themes, expl in zip(test_texts, jsonl["themes"], jsonl["explanations"], strict=False):
        assert set(expl) == set(themes)
        for spans in expl.values():
            assert len(spans) <= 2
            assert all(
                text[s["start"] : s["end"]] == s["text"] and set(s) == {"text", "start", "end", "weight"} for s in spans
            )
    assert jsonl["explanations"][2] == {}
    table = result_columns(explained, "table")
    assert list(table)[-1] == "uitleg" and table["uitleg"][2] == ""
    assert table["uitleg"][0] == format_uitleg(jsonl["explanations"][0])


def test_explain_texts_only_for_assigned_themes(linear, test_texts):
    model, _ = linear
    assigned = np.zeros((2, len(model.theme_ids)), dtype=bool)
    assigned[0, model.theme_ids.index("sector_onderwijs")] = True
    out = explain_texts(model, test_texts[:2], assigned, k=3)
    assert list(out[0]) == ["sector_onderwijs"] and out[1] == {}


def test_format_uitleg_is_readable():
    cell = format_uitleg(
        {
            "thuiszitter": [{"text": "zit sinds de\nherfstvakantie thuis", "start": 0, "end": 5, "weight": 0.41}],
            "autisme": [{"text": "autisme", "start": 9, "end": 16, "weight": 0.004}],
        }
    )
    assert cell == 'thuiszitter: "zit sinds de herfstvakantie thuis" (+0.41); autisme: "autisme" (+0.004)'


@pytest.mark.parametrize(("ext", "args", "k"), [("jsonl", ["--explain"], 5), ("csv", ["--explain", "2"], 2)])
def test_tag_cli_explain(tmp_path, linear, test_texts, ext, args, k):
    _, path = linear
    src = tmp_path / "in.csv"
    write_table(pd.DataFrame({"id": ["a", "b", "c"], "tekst": [test_texts[0], "", test_texts[1]]}), src)
    out = tmp_path / f"out.{ext}"
    r = runner.invoke(app, ["tag", str(src), "-o", str(out), "--model", str(path), *args, "-q"])
    assert r.exit_code == 0, r.output
    back = read_all(out)
    if ext == "jsonl":
        assert back.columns[-1] == "explanations"
        expl = back["explanations"][0]
        assert set(expl) == set(back["themes"][0])
        assert all(len(v) <= k for v in expl.values())
        for spans in expl.values():
            assert all(test_texts[0][s["start"] : s["end"]] == s["text"] for s in spans)
    else:
        assert back.columns[-1] == "uitleg"
        assert all(t.split(";")[0] in back["uitleg"][0] for t in [back["themes"][0]] if t)


def test_tag_cli_explain_refuses_an_input_with_explanations(tmp_path, linear):
    _, path = linear
    src = tmp_path / "in.csv"
    src.write_text("id,tekst,uitleg\n1,Hij zit thuis.,x\n")
    r = runner.invoke(app, ["tag", str(src), "-o", str(tmp_path / "o.csv"), "--model", str(path), "--explain"])
    assert r.exit_code == 1 and r.output.startswith("Error:") and "uitleg" in r.output


# --------------------------------------------------------------------- explain


def test_explain_cli_prints_and_writes_a_self_contained_page(tmp_path, linear, test_texts):
    _, path = linear
    page = tmp_path / "uitleg.html"
    r = runner.invoke(app, ["explain", test_texts[0], "--model", str(path), "--html", str(page), "-k", "3"])
    assert r.exit_code == 0, r.output
    assert "mini 0" in r.output and "threshold" in r.output
    html = page.read_text(encoding="utf-8")
    assert "<mark" in html and "http" not in html and "src=" not in html


def test_explain_cli_by_id_and_mistakes(tmp_path, linear, test_texts):
    _, path = linear
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "tekst": t}) + "\n" for i, t in [("x1", test_texts[2]), ("x2", "")]))
    r = runner.invoke(app, ["explain", "--input", str(src), "--id", "x1", "--model", str(path), "--theme", "adhd"])
    assert r.exit_code == 0, r.output
    assert "adhd" in r.output
    for args, needle in [
        (["--input", str(src), "--id", "nope"], "no report with id 'nope'"),
        (["--input", str(src), "--id", "x2"], "empty"),
        (["--input", str(src)], "--id"),
        ([], "give the report text"),
        (["tekst", "--theme", "bestaatniet"], "unknown theme id"),
    ]:
        r = runner.invoke(app, ["explain", *args, "--model", str(path)])
        assert r.exit_code == 1, (args, r.output)
        assert r.output.startswith("Error:") and needle in r.output and len(r.output.strip().splitlines()) == 1


def test_render_html_escapes_report_text():
    cb = load_codebook()
    model = _dir_model(KeywordScorer({cb.ids.index("thuiszitter"): "thuis"}))
    page = render_html(explain_text(model, "<script>alert(1)</script> Hij zit thuis. Al weken."))
    assert "<script>" not in page and "&lt;script&gt;" in page
