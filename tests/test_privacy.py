"""No report text in models or MLflow runs (issue #20, item 1): training text is de-identified before
any feature is learnt, and an n-gram is kept only when at least three reports contain it."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meldtekst.cli import app
from meldtekst.errors import InputError
from meldtekst.models.linear import MIN_TERM_REPORTS
from meldtekst.training import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]

# Personal data planted in four reports each: min_df alone would keep them, de-identification must not.
PII = {
    "name": "Quirijn Zwanenburg",
    "phone": "06-24681357",
    "email": "q.zwanenburg@voorbeeldmail.nl",
    "bsn": "111222333",
    "postcode": "3581 CD",
    "address": "Lindeboomstraat 14",
}
# A word in one report only: de-identification cannot know it, the min_df floor must drop it.
CANARY = "zwuppelfrats"


def _blobs(path: Path) -> list[bytes]:
    blobs = [path.read_bytes()]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            blobs += [z.read(n) for n in z.namelist()]
    return blobs


def _leaks(root: Path, values: list[str]) -> list[tuple[str, str]]:
    needles = {v: {v.lower().encode(), v.lower().replace(" ", "").encode()} for v in values}
    found = []
    for path in [root, *root.rglob("*")] if root.is_dir() else [root]:
        if not path.is_file():
            continue
        for blob in _blobs(path):
            low = blob.lower()
            found += [(str(path), v) for v, ns in needles.items() if any(n in low for n in ns)]
    return found


@pytest.fixture()
def pii_data(tmp_path: Path, small_labelled: Path) -> Path:
    rows = [json.loads(line) for line in small_labelled.read_text(encoding="utf-8").splitlines()]
    train_rows = [i for i, r in enumerate(rows) if r["split"] == "train"]
    for k, i in enumerate(train_rows[:4]):
        rows[i]["tekst"] += (
            f" Onze zoon {PII['name']} (BSN {PII['bsn']}) woont op {PII['address']}, {PII['postcode']} Heerdijk."
            f" Bel mij op {PII['phone']} of mail {PII['email']}."
        )
        if k == 0:
            rows[i]["tekst"] += f" Hij noemt het zelf {CANARY}."
    path = tmp_path / "pii.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.slow
def test_no_pii_in_model_dir_or_mlflow_store(tmp_path, pii_data, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "store"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}.db")
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{store}.db")
    mlflow.create_experiment("pii", artifact_location=str(store / "artifacts"))
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text("kind: linear\nname: tiny\nthreshold_folds: 2\nmodel:\n  char_ngrams: [3, 5]\n  min_df: 3\n")
    out = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        ["train", str(pii_data), "--config", str(cfg), "-o", str(out), "--experiment", "pii", "--register", "pii"],
    )
    assert result.exit_code == 0, result.output
    assert (out / "linear.json").is_file() and list((store / "artifacts").rglob("linear.json"))
    values = [*PII.values(), CANARY, "Zwanenburg", "Lindeboomstraat"]
    assert _leaks(out, values) == []
    assert _leaks(store, values) == [] and _leaks(Path(f"{store}.db"), values) == []
    meta = json.loads((out / "meta.json").read_text())
    assert meta["training_data"]["text"] == "de-identified before fitting"
    # the placeholders themselves are features, so a de-identified report still reads as one
    terms = json.loads((out / "linear.json").read_text())["word_terms"]
    assert any(re.fullmatch(r"\[?persoon\]?", t) for t in terms), terms[:50]


def test_without_deidentification_the_vocabulary_would_leak(tmp_path, pii_data):
    """The control: the same data with de-identification switched off keeps the planted values, so the
    test above can fail."""
    cfg = TrainConfig(name="tiny", threshold_folds=2, deidentify=False, model={"char_ngrams": [3, 4], "min_df": 3})
    out = train(pii_data, cfg, tmp_path / "m", track=False).output
    assert _leaks(out, ["Zwanenburg", "Lindeboomstraat"]) != []
    assert json.loads((out / "meta.json").read_text())["training_data"]["text"].startswith("as given")


@pytest.mark.parametrize("min_df", [1, 2, 2.5])
def test_min_df_floor(tmp_path, small_labelled, min_df):
    cfg = TrainConfig(name="tiny", threshold_folds=2, model={"min_df": min_df})
    with pytest.raises(InputError, match=f"min_df must be an integer >= {MIN_TERM_REPORTS}"):
        train(small_labelled, cfg, tmp_path / "m", track=False)
    enc = TrainConfig(kind="encoder", name="tiny", threshold_folds=2, model={"linear": {"min_df": min_df}})
    with pytest.raises(InputError, match="min_df"):
        train(small_labelled, enc, tmp_path / "e", track=False)


@pytest.fixture(scope="module")
def corpus_identifiers(corpus_rows) -> set[str]:
    """The direct identifiers `anonymize` finds in the corpus: names, phone numbers, e-mail and street
    addresses, BSNs, postcodes, IBANs, case numbers (at least 4 characters).

    Left out: dates and ages ("11 jaar", "twee"), and places and institutions, which are ordinary
    words of a vocabulary when three reports share them. A word found as a name in one context
    ("Lieve", "Dossier:" opening a letter or form) counts only if the pipeline also takes it for a
    name in a plain lower-case sentence; otherwise it is a common word.
    """
    from meldtekst.anonymize import deidentify, identifiers

    found: dict[str, str] = {}
    for row in corpus_rows:
        for surface, kind in identifiers(row["tekst"]).items():
            if kind not in ("DATUM", "LEEFTIJD", "LOCATIE", "INSTELLING") and len(surface) >= 4:
                found.setdefault(surface.lower(), kind)
    return {w for w, kind in found.items() if kind != "PERSOON" or w not in deidentify(f"ik zag {w} gisteren").text}


@pytest.mark.slow
@pytest.mark.parametrize("model", ["fast", "accurate"])
def test_shipped_vocabularies_hold_no_corpus_identifiers(model, corpus_identifiers):
    """The shipped models were trained on de-identified text with min_df >= 3: no identifier found in the
    corpus is a word term of their vocabularies."""
    linear = json.loads((ROOT / "models" / model / "linear.json").read_text(encoding="utf-8"))
    terms = {t.lower() for t in linear["word_terms"]}
    assert corpus_identifiers, "no identifiers found: the check would be empty"
    assert sorted(terms & corpus_identifiers) == []
    meta = json.loads((ROOT / "models" / model / "meta.json").read_text(encoding="utf-8"))
    assert meta["training_data"].get("text") == "de-identified before fitting"
    params = meta["config"]["model"]
    assert params.get("linear", params).get("min_df", MIN_TERM_REPORTS) >= MIN_TERM_REPORTS
