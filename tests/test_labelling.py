"""The labelling loop: agreement, Label Studio config/import, suggest, training on corpus + new labels."""

from __future__ import annotations

import copy
import json
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score, f1_score
from typer.testing import CliRunner

from meldtekst.cli import app
from meldtekst.codebook import load_codebook
from meldtekst.labelling import strategies
from meldtekst.labelling.agreement import agreement
from meldtekst.labelling.labelstudio import label_config, read_export
from meldtekst.labelling.merge import merge_labelled
from meldtekst.labelling.suggest import near_duplicates, normalise

ROOT = Path(__file__).resolve().parents[1]
EXPORT = ROOT / "tests" / "data" / "labelstudio_export.json"  # exported from a real Label Studio 1.23.2
runner = CliRunner()
CB = load_codebook()
IDS = CB.ids


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def _last_json(result) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ agreement


def test_datasheet_figures_come_from_the_agreement_command():
    a = ROOT / "data" / "agreement" / "compared_a_writers.jsonl"
    b = ROOT / "data" / "agreement" / "compared_b_annotator.jsonl"
    r = _run("agreement", a, b, "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert (d["reports_compared"], d["micro_f1"], d["mean_kappa"], d["krippendorff_alpha_all_decisions"]) == (
        149,
        0.952,
        0.952,
        0.943,
    )
    assert d["macro_f1"] == 0.963 and d["identical_label_sets"] == 107
    stored = json.loads((ROOT / "data" / "agreement" / "agreement.json").read_text())
    assert stored["per_theme"] == d["per_theme"]


def test_agreement_matches_sklearn_and_writes_disagreements(tmp_path):
    a_rows = [
        {"id": "1", "tekst": "een", "labels": ["autisme", "adhd"]},
        {"id": "2", "tekst": "twee", "labels": ["autisme"]},
        {"id": "3", "tekst": "drie", "labels": []},
        {"id": "4", "tekst": "vier", "labels": ["adhd"]},
    ]
    b_rows = [
        {"id": "4", "labels": ["adhd"]},
        {"id": "3", "labels": ["autisme"]},
        {"id": "2", "labels": ["autisme"]},
        {"id": "1", "labels": ["autisme"]},
    ]
    a, b = _jsonl(tmp_path / "a.jsonl", a_rows), _jsonl(tmp_path / "b.jsonl", b_rows)
    res = agreement(a, b)
    ja, jb = IDS.index("autisme"), IDS.index("adhd")
    A = np.array([[1, 1, 0, 0], [1, 0, 0, 1]]).T  # autisme, adhd for ids 1..4
    B = np.array([[1, 1, 1, 0], [0, 0, 0, 1]]).T
    assert res.per_theme["autisme"]["kappa"] == round(cohen_kappa_score(A[:, 0], B[:, 0]), 3)
    assert res.per_theme["adhd"]["f1_b_vs_a"] == round(f1_score(A[:, 1], B[:, 1]), 3)
    assert res.per_theme["thuiszitter"]["kappa"] is None  # nobody used it: undefined, not 1 or 0
    assert (res.a[:, [ja, jb]] == A).all() and (res.b[:, [ja, jb]] == B).all()
    out = tmp_path / "dis.jsonl"
    r = _run("agreement", a, b, "--disagreements", out)
    assert r.exit_code == 0, r.output
    dis = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(d["id"], d["only_a"], d["only_b"], d["tekst"]) for d in dis] == [
        ("1", ["adhd"], [], "een"),
        ("3", [], ["autisme"], "drie"),
    ]


def test_agreement_mismatching_ids_is_one_line_naming_them(tmp_path):
    a = _jsonl(tmp_path / "a.jsonl", [{"id": "1", "labels": []}, {"id": "2", "labels": []}])
    b = _jsonl(tmp_path / "b.jsonl", [{"id": "1", "labels": []}, {"id": "9", "labels": []}])
    r = _run("agreement", a, b)
    assert r.exit_code == 1
    assert r.output.count("\n") == 1 and "2" in r.output and "b.jsonl" in r.output and "Traceback" not in r.output
    bad = _jsonl(tmp_path / "c.jsonl", [{"id": "1", "labels": ["geen_thema"]}, {"id": "2", "labels": []}])
    r = _run("agreement", a, bad)
    assert r.exit_code == 1 and "geen_thema" in r.output and "c.jsonl" in r.output


label_sets = st.lists(st.sets(st.sampled_from(IDS[:6]), max_size=4), min_size=2, max_size=25)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=label_sets, data=st.data())
def test_agreement_properties(a, data):
    b = data.draw(st.lists(st.sets(st.sampled_from(IDS[:6]), max_size=4), min_size=len(a), max_size=len(a)))
    with tempfile.TemporaryDirectory() as d:
        pa = _jsonl(Path(d) / "a.jsonl", [{"id": str(i), "labels": sorted(x)} for i, x in enumerate(a)])
        pb = _jsonl(Path(d) / "b.jsonl", [{"id": str(i), "labels": sorted(x)} for i, x in enumerate(b)])
        ab, ba, aa = agreement(pa, pb), agreement(pb, pa), agreement(pa, pa)
    assert ab.micro_f1 == ba.micro_f1  # F1 and kappa do not care which side is the reference
    assert {t: v["kappa"] for t, v in ab.per_theme.items()} == {t: v["kappa"] for t, v in ba.per_theme.items()}
    assert aa.micro_f1 in (1.0, 0.0) and aa.identical_label_sets == len(a)
    assert ab.identical_label_sets == sum(set(x) == set(y) for x, y in zip(a, b, strict=True))
    if any(a):
        assert aa.micro_f1 == 1.0 and aa.macro_f1 == 1.0
    if ab.alpha is not None:
        assert -1.0 <= ab.alpha <= 1.0


# -------------------------------------------------------------- Label Studio


def test_config_has_every_theme_once_grouped_with_hints(tmp_path):
    out = tmp_path / "config.xml"
    assert _run("labelstudio", "config", "-o", out).exit_code == 0
    root = ET.fromstring(out.read_text())
    (choices,) = root.iter("Choices")
    assert choices.get("name") == "themes" and choices.get("choice") == "multiple"
    values = [c.get("value") for c in choices.iter("Choice")]
    assert sorted(values) == sorted(IDS) and len(values) == len(IDS)
    assert all(c.get("hint") for c in choices.iter("Choice"))
    headers = [h.get("value") for h in choices.iter("Header")]
    assert headers == [CB.groups[g] for g in CB.groups if CB.in_group(g)]
    assert root.find("Text").get("value") == "$tekst"
    assert label_config() == out.read_text()


def test_import_real_export_majority(tmp_path):
    out = tmp_path / "nieuw.jsonl"
    r = _run("labelstudio", "import", EXPORT, "-o", out)
    assert r.exit_code == 0, r.output
    s = _last_json(r)
    assert s["rows_written"] == 7 and s["cancelled_or_skipped"] == 1 and s["unannotated_tasks"] == ["M-0476"]
    assert s["ties"] == [{"id": "M-0477", "theme": "handelingsverlegenheid"}]
    assert "without annotation" in r.output and "tie" in r.output
    rows = {json.loads(x)["id"]: json.loads(x) for x in out.read_text().splitlines()}
    assert "handelingsverlegenheid" not in rows["M-0477"]["labels"]
    assert rows["M-0398"]["labels"] == CB.order(
        ["geen_passend_aanbod", "thuiszitter", "angst_trauma", "sector_onderwijs"]
    )
    assert all(r["split"] == "train" and r["tekst"] for r in rows.values())
    assert _run("validate", out).exit_code == 0


@pytest.mark.parametrize(("policy", "rows"), [("all", 13), ("first", 7), ("majority", 7)])
def test_import_policies(tmp_path, policy, rows):
    out = tmp_path / "n.csv"
    r = _run("labelstudio", "import", EXPORT, "-o", out, "--annotator-policy", policy)
    assert r.exit_code == 0, r.output
    assert _last_json(r)["rows_written"] == rows
    assert _run("validate", out).exit_code == 0
    frame, _ = read_export(EXPORT, policy=policy)
    if policy == "all":
        assert set(frame["annotator"]) == {"2", "3"}
    if policy == "first":  # the earliest annotation: the first annotator's extra-free labels
        assert "handelingsverlegenheid" not in frame.set_index("id").loc["M-0477", "labels"]


def _broken(tmp_path: Path, change) -> Path:
    doc = json.loads(EXPORT.read_text())
    change(doc)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(doc))
    return path


def _set_choice(doc):
    doc[0]["annotations"][0]["result"][0]["value"]["choices"] = ["bestaat_niet"]


def _rename_control(doc):
    for t in doc:
        for a in t["annotations"]:
            for item in a["result"]:
                item["from_name"] = "label"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set_choice, "bestaat_niet"),
        (_rename_control, "no 'themes' control"),
        (lambda doc: doc[2].pop("data"), "no 'data' object"),
        (lambda doc: doc[1]["data"].pop("tekst"), "no text"),
    ],
)
def test_import_bad_export_is_one_line(tmp_path, change, expected):
    path = _broken(tmp_path, change)
    r = _run("labelstudio", "import", path, "-o", tmp_path / "o.jsonl")
    assert r.exit_code == 1 and expected in r.output and str(path) in r.output
    assert r.output.count("\n") == 1 and "Traceback" not in r.output
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("content", ["{not json", '{"tasks": []}', '[{"id": 1, "tekst": "x"}]', "\x00\x01"])
def test_import_malformed_file(tmp_path, content):
    path = tmp_path / "e.json"
    path.write_text(content)
    r = _run("labelstudio", "import", path, "-o", tmp_path / "o.jsonl")
    assert r.exit_code == 1 and str(path) in r.output and r.output.count("\n") == 1


def _value_is_a_list(doc):
    item = doc[0]["annotations"][0]["result"][0]
    item["value"] = item["value"]["choices"]


def _choice_is_a_list(doc):
    choices = doc[0]["annotations"][0]["result"][0]["value"]["choices"]
    choices[0] = [choices[0]]


def _deep_data(doc):
    doc[0]["data"]["bijlage"] = json.loads("[" * 500 + "]" * 500)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.write_text("[" * 100_000 + "]" * 100_000), "nested too deeply"),
        (lambda p: p.write_text('[{"id": ' + "7" * 5000 + ', "data": {"tekst": "x"}}]'), "4300 digits"),
        (lambda p: p.write_text(json.dumps(_changed(_value_is_a_list))), "'value' is not an object"),
        (lambda p: p.write_text(json.dumps(_changed(_choice_is_a_list))), "a choice is a list"),
        (lambda p: p.write_text(json.dumps(_changed(_deep_data))), "nests lists or objects more than"),
    ],
    ids=["nested-100k", "5000-digits", "value-list", "choice-list", "deep-data"],
)
@pytest.mark.parametrize("ext", ["jsonl", "csv"])
def test_import_hostile_export_is_one_line(tmp_path, make, expected, ext):
    """Exports that crashed with a traceback (RecursionError, ValueError, AttributeError, TypeError)."""
    path = tmp_path / "e.json"
    make(path)
    r = _run("labelstudio", "import", path, "-o", tmp_path / f"o.{ext}")
    assert r.exit_code == 1, r.output
    assert r.output.startswith(f"Error: {path}") and expected in r.output, r.output
    assert r.output.count("\n") == 1 and "Traceback" not in r.output
    assert not list(tmp_path.glob("*o.*"))


def _changed(change) -> list:
    doc = json.loads(EXPORT.read_text())
    change(doc)
    return doc


@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sets(st.sampled_from(IDS[:5]))), min_size=1, max_size=5))
def test_majority_is_strict_majority_and_ties_are_listed(votes):
    """votes: per annotator a label set, or None for a skipped (cancelled) annotation."""
    anns = [
        {
            "completed_by": n,
            "was_cancelled": v is None,
            "created_at": f"2026-01-0{n + 1}",
            "result": []
            if v is None
            else [{"from_name": "themes", "type": "choices", "value": {"choices": sorted(v)}}],
        }
        for n, v in enumerate(votes)
    ]
    doc = [{"id": 1, "data": {"id": "M-1", "tekst": "tekst"}, "annotations": anns}]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "e.json"
        path.write_text(json.dumps(doc))
        frame, s = read_export(path)
    done = [v for v in votes if v is not None]
    assert s.cancelled == len(votes) - len(done)
    if not done:
        assert frame.empty and s.unannotated == ["M-1"]
        return
    count = {t: sum(t in v for v in done) for t in IDS[:5]}
    assert frame.loc[0, "labels"] == [t for t in IDS[:5] if 2 * count[t] > len(done)]
    assert s.ties == [("M-1", t) for t in IDS[:5] if 2 * count[t] == len(done)]


# ------------------------------------------------------------------- suggest


def test_uncertainty_is_highest_at_the_threshold_in_logit_space():
    thr = np.array([0.05, 0.5])
    scores = np.array([[0.05, 0.99], [0.5, 0.5], [0.3, 0.99], [0.02, 0.999]])
    u = strategies.uncertainty(scores, thr)
    assert u[0] == pytest.approx(1.0) and u[1] == pytest.approx(1.0)
    assert u[3] > u[2]  # 0.02 vs 0.05 is closer in log-odds than 0.3 vs 0.05
    w = strategies.theme_weights(np.array([0.02, 0.5]))
    assert w[0] > w[1] and w.mean() == pytest.approx(1.0)


def test_pick_diverse_returns_distinct_uncertain_rows():
    rng = np.random.default_rng(0)
    feats = np.vstack([np.eye(5)[c] + rng.normal(0, 0.01, size=(30, 5)) for c in range(4)])
    u = np.linspace(1, 0, 120)  # the 30 most uncertain all come from cluster 0
    pick = strategies.pick_diverse(u, feats, 4, np.random.default_rng(1), pool_factor=30)
    assert len(set(pick.tolist())) == 4
    assert len({int(i) // 30 for i in pick}) == 4  # one from each cluster, not four retellings
    assert list(strategies.pick_uncertain(u, 3)) == [0, 1, 2]


def test_near_duplicates():
    base = (
        "Onze zoon Jan zit al maanden thuis. De school zegt dat ze handelingsverlegen zijn en er is geen plek op "
        "een andere school. De leerplichtambtenaar heeft ons gebeld en dreigt met een proces-verbaal. Wij weten "
        "niet meer wat we moeten doen, niemand luistert naar ons."
    )
    known = [base]
    cands = [
        base.upper().replace(".", "!"),  # identical after normalising
        base.replace("Jan", "Piet").replace("luistert", "luisterd"),  # a name changed, a typo: near-identical
        "Mijn dochter wordt gepest op de sportclub en de trainer doet niets.",
    ]
    assert near_duplicates(cands, known).tolist() == [True, True, False]
    assert normalise("  Één  Twee! ") == "een twee"


@pytest.fixture(scope="module")
def pool(tmp_path_factory, corpus_rows, small_labelled) -> Path:
    seen = {json.loads(x)["id"] for x in small_labelled.read_text().splitlines()}
    rows = [r for r in corpus_rows if r["split"] == "train" and r["id"] not in seen][:80]
    first = json.loads(small_labelled.read_text().splitlines()[0])
    rows.append({"id": "X-leeg", "tekst": "   ", "labels": []})
    rows.append({"id": "X-kopie", "tekst": first["tekst"].upper() + " ", "labels": []})  # text already labelled
    rows.append({**rows[0], "id": "X-herhaald"})  # same text twice in the input
    rows.append({**rows[1], "tekst": rows[1]["tekst"] + " "})  # id already labelled (below)
    return _jsonl(tmp_path_factory.mktemp("pool") / "pool.jsonl", rows)


@pytest.mark.parametrize("strategy", ["uncertainty", "diverse", "random", "review"])
def test_suggest_writes_label_studio_tasks(tmp_path, pool, tiny_model, small_labelled, strategy):
    extra_labelled = _jsonl(tmp_path / "eerder.jsonl", [json.loads(pool.read_text().splitlines()[1])])
    out = tmp_path / "tasks.json"
    args = ["suggest", pool, "-n", 10, "-o", out, "--model", tiny_model, "--strategy", strategy]
    r = _run(*args, "--exclude", small_labelled, "--exclude", extra_labelled, "--seed", 3)
    assert r.exit_code == 0, r.output
    s = _last_json(r)
    assert (s["empty_texts"], s["excluded_by_text"], s["duplicates_in_input"]) == (1, 1, 1)
    assert s["excluded_by_id"] == 2 and s["candidates"] == 84 - 5
    tasks = json.loads(out.read_text())
    ids = [t["data"]["id"] for t in tasks]
    assert len(ids) == len(set(ids)) == s["suggested"] and s["suggested"] <= 10
    assert not {"X-leeg", "X-kopie"} & set(ids)
    for t in tasks:
        assert "labels" not in t["data"] and t["data"]["tekst"].strip()
        (p,) = t["predictions"]
        assert p["model_version"] == "tiny 1" and 0 <= p["score"] <= 1
        for item in p["result"]:
            assert item["from_name"] == "themes" and set(item["value"]["choices"]) <= set(IDS)
    if strategy != "review":
        assert s["suggested"] == 10
    if strategy == "random":  # the seed decides
        again = tmp_path / "again.json"
        assert (
            _run(*args, "--exclude", small_labelled, "--exclude", extra_labelled, "-o", again, "--seed", 3).exit_code
            == 0
        )
        assert [t["data"]["id"] for t in json.loads(again.read_text())] == ids


def test_suggest_review_exports_the_flagged_reports(tmp_path, pool, tiny_model):
    from meldtekst.models.store import load_model
    from meldtekst.tagging import tag_texts

    out = tmp_path / "t.json"
    r = _run("suggest", pool, "-n", 500, "-o", out, "--model", tiny_model, "--strategy", "review")
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in pool.read_text().splitlines()]
    live = {}
    for row in rows:  # the same candidates suggest keeps: non-empty, first of a repeated text
        if row["tekst"].strip() and normalise(row["tekst"]) not in {normalise(t) for t in live.values()}:
            live[row["id"]] = row["tekst"]
    res = tag_texts(load_model(tiny_model), list(live.values()), with_evidence=False)
    flagged = {i for i, f in zip(live, res.needs_review, strict=True) if f}
    assert {t["data"]["id"] for t in json.loads(out.read_text())} == flagged


def test_suggest_bad_input(tmp_path, pool, tiny_model):
    r = _run("suggest", pool, "-n", 5, "-o", tmp_path / "t.json", "--model", tiny_model, "--strategy", "slim")
    assert r.exit_code == 1 and "slim" in r.output
    bad = tmp_path / "ex.csv"
    bad.write_text("a,b\n1,2\n")
    r = _run("suggest", pool, "-n", 5, "-o", tmp_path / "t.json", "--model", tiny_model, "--exclude", bad)
    assert r.exit_code == 1 and "ex.csv" in r.output and "Traceback" not in r.output


# ------------------------------------------------------------ training merge


def test_merge_newest_label_wins_and_split_is_kept(tmp_path):
    corpus = _jsonl(
        tmp_path / "c.jsonl",
        [
            {"id": "1", "tekst": "a", "labels": ["autisme"], "split": "test"},
            {"id": "2", "tekst": "b", "labels": ["adhd"], "split": "train"},
        ],
    )
    new = _jsonl(
        tmp_path / "n.jsonl",
        [
            {"id": "1", "tekst": "a", "labels": ["adhd"]},
            {"id": "3", "tekst": "c", "labels": []},
            {"id": "3", "tekst": "c", "labels": ["autisme"]},  # later row in the same file is newer
            {"id": "4", "tekst": "d", "labels": [], "split": "dev"},
        ],
    )
    data, info = merge_labelled([corpus, new])
    by_id = {i: (data.y[k], data.frame["split"][k]) for k, i in enumerate(data.ids)}
    assert sorted(by_id) == ["1", "2", "3", "4"] and info.replaced == 1 and info.added == 2
    assert by_id["1"][1] == "test" and by_id["1"][0][IDS.index("adhd")] == 1 and by_id["1"][0].sum() == 1
    assert by_id["3"][1] == "train" and by_id["3"][0][IDS.index("autisme")] == 1
    assert by_id["4"][1] == "dev"
    assert info.sha256 != merge_labelled([corpus])[1].sha256


def test_train_accepts_corpus_plus_imported_labels(tmp_path, small_labelled):
    new = tmp_path / "nieuw.jsonl"
    assert _run("labelstudio", "import", EXPORT, "-o", new).exit_code == 0
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text("kind: linear\nname: tiny\nthreshold_folds: 2\nmodel:\n  char_ngrams: [3, 4]\n  min_df: 3\n")
    r = _run("train", small_labelled, "--extra", new, "--config", cfg, "-o", tmp_path / "m", "--no-track")
    assert r.exit_code == 0, r.output
    assert "7 new" in r.output
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    td = meta["training_data"]
    assert td["rows"] == 387 and td["added_ids"] == 7 and " + nieuw.jsonl" in td["file"]
    dev_test = sum(1 for x in small_labelled.read_text().splitlines() if json.loads(x)["split"] != "train")
    assert td["dev_rows"] + td["test_rows"] == dev_test  # new rows went to train only


def test_train_extra_bad_file_is_one_line(tmp_path, small_labelled):
    bad = _jsonl(tmp_path / "bad.jsonl", [{"id": "1", "tekst": "x", "labels": ["nope"]}])
    cfg = ROOT / "training" / "configs" / "fast.yaml"
    r = _run("train", small_labelled, "--extra", bad, "--config", cfg, "-o", tmp_path / "m", "--no-track")
    assert r.exit_code == 1 and "bad.jsonl" in r.output and "row 1" in r.output


def test_exports_are_not_mutated_by_reading():
    doc = json.loads(EXPORT.read_text())
    before = copy.deepcopy(doc)
    read_export(EXPORT)
    assert json.loads(EXPORT.read_text()) == before


# -------------------------------------------------------------- review flag


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=5, max_value=60),
    st.integers(min_value=1, max_value=6),
    st.floats(min_value=0.05, max_value=0.5),
    st.integers(min_value=0, max_value=10_000),
)
def test_review_cutoff_respects_the_cap_and_old_models_keep_the_band(n, k, cap, seed):
    from meldtekst.review import choose_cutoff, needs_review, review_risk

    rng = np.random.default_rng(seed)
    scores, thr = rng.random((n, k)), rng.uniform(0.1, 0.8, k)
    y = rng.integers(0, 2, (n, k))
    rule = choose_cutoff(scores, y, thr, max_flagged=cap)
    empty = np.zeros(n, dtype=bool)
    flags = needs_review(scores, thr, {"review": rule}, empty)
    assert flags.mean() <= cap + 1e-9 and rule["flagged_share"] == round(float(flags.mean()), 3)
    risk = review_risk(scores, thr)
    assert not flags.any() or risk[flags].min() >= risk[~flags].max(initial=-1)  # the riskiest are flagged
    old = needs_review(scores, thr, {"review_band": 0.07}, empty)  # a model trained before the risk rule
    assert (old == (np.abs(scores - thr) < 0.07).any(axis=1)).all()
    assert not needs_review(scores, thr, {"review": rule}, np.ones(n, dtype=bool)).any()  # empty texts never


def test_new_models_store_the_risk_rule_and_tag_with_it(tiny_model):
    from meldtekst.models.store import load_model
    from meldtekst.review import review_risk
    from meldtekst.tagging import tag_texts

    model = load_model(tiny_model)
    rule = model.meta["review"]
    assert rule["measure"] == "logit_risk" and 0 < rule["flagged_share"] <= 0.25
    assert "review_band" in model.meta  # older meldtekst versions still find their band
    texts = [json.loads(x)["tekst"] for x in (ROOT / "data" / "meldingen.jsonl").read_text().splitlines()[:60]]
    res = tag_texts(model, texts, with_evidence=False)
    assert (res.needs_review == (review_risk(res.scores, model.thresholds) >= rule["cutoff"])).all()
