"""`meldtekst verify-sample` and `meldtekst counts`: PPI estimates against a hand computation, the
verified file's one-line errors (file and row), the exact JSON shape, and the whole staff workflow
through the CLI: tag -> draw a sample -> fill in the sheet -> counts -> report."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint
from typer.testing import CliRunner

from meldtekst.cli import app
from meldtekst.codebook import load_codebook
from meldtekst.reporting.estimates import ppi_count, ppi_counts

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
IDS = load_codebook().ids
N = 120


def _truth_and_tags(n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """Invented labels (every third theme common) and a model that over-tags and misses some."""
    rng = np.random.default_rng(5)
    prevalence = np.array([0.4 if j % 3 == 0 else 0.12 for j in range(len(IDS))])
    truth = rng.random((n, len(IDS))) < prevalence
    flip_on = rng.random(truth.shape) < 0.12  # false positives
    flip_off = rng.random(truth.shape) < 0.15  # misses
    tags = (truth & ~flip_off) | (~truth & flip_on)
    return truth.astype(int), tags.astype(int)


def _tagged_file(path: Path, tags: np.ndarray) -> Path:
    rows = []
    for i, row in enumerate(tags):
        rec = {"id": f"M-{i + 1:03d}", "datum": f"{2023 + i % 2}-0{1 + i % 6}-15", "tekst": f"melding nummer {i + 1}"}
        rec |= {t: int(row[j]) for j, t in enumerate(IDS)}
        rec["themes"] = ";".join(t for j, t in enumerate(IDS) if row[j])
        rows.append(rec)
    pd.DataFrame(rows).to_csv(path, index=False, sep=";")
    return path


def _verified_jsonl(path: Path, truth: np.ndarray, rows: list[int], **extra) -> Path:
    lines = [
        json.dumps({"id": f"M-{i + 1:03d}", "labels": [t for j, t in enumerate(IDS) if truth[i, j]], **extra})
        for i in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("counts")
    truth, tags = _truth_and_tags()
    sample = sorted(np.random.default_rng(2).choice(N, size=40, replace=False).tolist())
    return {
        "folder": folder,
        "truth": truth,
        "tags": tags,
        "sample": sample,
        "tagged": _tagged_file(folder / "getagd.csv", tags),
        "verified": _verified_jsonl(folder / "gecontroleerd.jsonl", truth, sample),
    }


def _one_line_error(result, *parts: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    for part in parts:
        assert part in lines[0], (part, lines[0])


# --------------------------------------------------------------------------- the estimator


def test_ppi_count_matches_a_hand_computation():
    # 100 reports, the first 40 tagged; 20 verified: rows 0-9 (tagged; 8 right, 2 false positives)
    # and rows 50-59 (untagged; 1 missed)
    tags = np.zeros(100)
    tags[:40] = 1
    rows = np.r_[0:10, 50:60]
    y = np.zeros(20)
    y[:8] = 1
    y[10] = 1
    # plain PPI (lam = 1), N x share: 40/100 tagged, rectifier mean (-2 + 1)/20 on the verified
    share = 40 / 100 + (-2 + 1) / 20
    se = np.sqrt(0.4 * 0.6 / 100 + (3 / 20 - (1 / 20) ** 2) / 20)
    est, lo, hi = ppi_count(tags, rows, y, lam=1.0)
    assert est == pytest.approx(100 * share)  # 35
    assert lo == pytest.approx(100 * (share - 1.959964 * se), abs=1e-4)
    assert hi == pytest.approx(100 * (share + 1.959964 * se), abs=1e-4)
    # lam = 0 is the verified sample alone (normal interval): 9 of 20
    est0, lo0, hi0 = ppi_count(tags, rows, y, lam=0.0)
    se0 = np.sqrt(0.45 * 0.55 / 20)
    assert est0 == pytest.approx(45)
    assert (lo0, hi0) == pytest.approx((100 * (0.45 - 1.959964 * se0), 100 * (0.45 + 1.959964 * se0)), abs=1e-4)
    # power-tuned PPI++ (what counts uses) is narrower than the verified sample alone here
    est_t, lo_t, hi_t = ppi_count(tags, rows, y)
    assert lo_t <= est_t <= hi_t and hi_t - lo_t < hi0 - lo0


def test_ppi_counts_bounds_census_and_constant_tags():
    tags = np.zeros((50, 2))
    tags[:10, 0] = 1
    y = tags[:, :].copy()
    # every report verified: the count is exact
    est, lo, hi = ppi_counts(tags, np.arange(50), y)
    assert est.tolist() == lo.tolist() == hi.tolist() == [10.0, 0.0]
    # a theme never tagged (constant tags) gives a number, not NaN; bounds stay possible
    rows = np.arange(0, 50, 2)
    y_rows = np.zeros((25, 2))
    y_rows[:3, 1] = 1  # the model missed three verified reports of theme 2
    est, lo, hi = ppi_counts(tags, rows, y_rows)
    assert np.isfinite(est).all() and (lo >= y_rows.sum(axis=0)).all() and (hi <= 25 + y_rows.sum(axis=0)).all()
    assert est[1] > 3


# --------------------------------------------------------------------------- counts: JSON shape


def test_counts_json_shape_with_verified(files):
    r = runner.invoke(app, ["counts", str(files["tagged"]), "--verified", str(files["verified"]), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert list(doc) == ["reports", "verified", "method", "themes"]
    assert doc["reports"] == N and doc["verified"] == 40 and "prediction-powered" in doc["method"]
    assert [t["id"] for t in doc["themes"]] == list(IDS)
    for j, t in enumerate(doc["themes"]):
        assert list(t) == ["id", "tagged", "estimate", "low", "high"]
        assert isinstance(t["tagged"], int) and t["tagged"] == int(files["tags"][:, j].sum())
        assert all(isinstance(t[k], float) for k in ("estimate", "low", "high"))
        assert t["low"] <= t["estimate"] <= t["high"] <= N  # counts, not shares
    # the same numbers as the library, on the same rows
    est, lo, high = ppi_count(files["tags"][:, 0], files["sample"], files["truth"][files["sample"], 0])
    assert (doc["themes"][0]["estimate"], doc["themes"][0]["low"], doc["themes"][0]["high"]) == pytest.approx(
        (est, lo, high), abs=1e-3
    )


def test_counts_json_without_verified_is_the_wilson_interval(files):
    r = runner.invoke(app, ["counts", str(files["tagged"]), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["verified"] == 0 and "Wilson" in doc["method"] and "not in the interval" in doc["method"]
    first = doc["themes"][0]
    lo, hi = proportion_confint(first["tagged"], N, alpha=0.05, method="wilson")
    assert first["estimate"] == first["tagged"]
    assert (first["low"], first["high"]) == pytest.approx((N * lo, N * hi), abs=1e-3)
    assert len(doc["themes"]) == len(IDS)


def test_counts_text_and_by_period(files):
    r = runner.invoke(app, ["counts", str(files["tagged"]), "--verified", str(files["verified"]), "--by", "jaar"])
    assert r.exit_code == 0, r.output
    assert "120 reports, 40 verified" in r.stdout and "Thuiszitter" in r.stdout and "jaar 2023" in r.stdout
    r = runner.invoke(
        app, ["counts", str(files["tagged"]), "--verified", str(files["verified"]), "--by", "maand", "--json"]
    )
    doc = json.loads(r.stdout)
    assert doc["by"] == "maand" and len(doc["periods"]) >= 6
    # no month has 30 verified reports: it says so instead of inventing an interval
    for p in (p for p in doc["periods"] if p["reports"]):
        assert p["verified"] < 30 and "at least 30" in p["note"]
        assert all(t["estimate"] is None and t["low"] is None for t in p["themes"])


# --------------------------------------------------------------------------- bad verified files


@pytest.mark.parametrize(
    ("lines", "parts"),
    [
        ([{"id": "M-999", "labels": []}], ["row 31", "'M-999' is not in getagd.csv"]),
        ([{"id": "M-001", "labels": []}], ["row 31", "duplicate id 'M-001'"]),
        ([{"id": "M-119", "labels": ["thuiszitters"]}], ["row 31", "unknown theme id 'thuiszitters'"]),
    ],
)
def test_bad_verified_rows_are_one_line_naming_file_and_row(files, tmp_path, lines, parts):
    good = [json.dumps({"id": f"M-{i + 1:03d}", "labels": []}) for i in range(30)]
    path = tmp_path / "fout.jsonl"
    path.write_text("\n".join(good + [json.dumps(x) for x in lines]) + "\n", encoding="utf-8")
    r = runner.invoke(app, ["counts", str(files["tagged"]), "--verified", str(path)])
    _one_line_error(r, "fout.jsonl", *parts)


def test_too_small_sample_is_one_line(files, tmp_path):
    path = _verified_jsonl(tmp_path / "klein.jsonl", files["truth"], list(range(29)))
    r = runner.invoke(app, ["counts", str(files["tagged"]), "--verified", str(path), "--json"])
    _one_line_error(r, "klein.jsonl", "only 29 checked report(s)", "at least 30")


def test_a_bad_cell_in_the_sheet_names_the_excel_row(files, tmp_path):
    out = tmp_path / "TE.xlsx"
    assert (
        runner.invoke(app, ["verify-sample", str(files["tagged"]), "-n", "35", "-o", str(out), "--seed", "3"]).exit_code
        == 0
    )
    wb = openpyxl.load_workbook(out)
    ws = wb["Controleren"]
    header = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        ws.cell(r, header.index("gecontroleerd") + 1).value = 1
    ws.cell(5, header.index("thuiszitter") + 1).value = "misschien"
    wb.save(out)
    r = runner.invoke(app, ["counts", str(files["tagged"]), "--verified", str(out)])
    _one_line_error(r, "TE.xlsx", "row 4 (Excel row 5)", "column 'thuiszitter'", "misschien")


def test_verified_file_needs_ids_and_labels(files, tmp_path):
    path = tmp_path / "geen.csv"
    path.write_text("nummer;labels\n1;thuiszitter\n", encoding="utf-8")
    _one_line_error(runner.invoke(app, ["counts", str(files["tagged"]), "--verified", str(path)]), "no 'id' column")


# --------------------------------------------------------------------------- verify-sample


def test_sample_is_seeded_random_blank_and_recorded(files, tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    for out in (a, b):
        r = runner.invoke(app, ["verify-sample", str(files["tagged"]), "-n", "40", "-o", str(out), "--seed", "11"])
        assert r.exit_code == 0 and "seed 11" in r.output, r.output
    sheets = [pd.read_excel(p, sheet_name="Controleren", dtype=object) for p in (a, b)]
    assert sheets[0]["id"].tolist() == sheets[1]["id"].tolist()  # same seed, same sample
    ids = sheets[0]["id"].tolist()
    assert len(set(ids)) == 40 and ids != sorted(ids)  # random order: stopping halfway stays random
    assert sheets[0][list(IDS)].isna().all().all()  # blank: the model's tags do not anchor the checker
    meta = dict(openpyxl.load_workbook(a, read_only=True)["Steekproef"].iter_rows(values_only=True))
    assert meta["steekproef_seed"] == 11 and meta["steekproef_van"] == N and meta["voorgevuld"] == "nee"
    assert "Uitleg" in openpyxl.load_workbook(a, read_only=True).sheetnames
    # --prefill shows the model's tags
    c = tmp_path / "c.xlsx"
    runner.invoke(app, ["verify-sample", str(files["tagged"]), "-n", "40", "-o", str(c), "--seed", "11", "--prefill"])
    pre = pd.read_excel(c, sheet_name="Controleren", dtype=object)
    row = int(pre["id"].iloc[0][2:]) - 1
    assert [t for t in IDS if pre[t].iloc[0] == 1] == [t for j, t in enumerate(IDS) if files["tags"][row, j]]


def test_label_studio_round_trip(files, tmp_path):
    tasks_file = tmp_path / "taken.json"
    r = runner.invoke(app, ["verify-sample", str(files["tagged"]), "-n", "35", "-o", str(tasks_file), "--seed", "4"])
    assert r.exit_code == 0, r.output
    tasks = json.loads(tasks_file.read_text(encoding="utf-8"))
    assert len(tasks) == 35 and tasks[0]["data"]["steekproef_seed"] == 4 and "predictions" not in tasks[0]
    export = []
    for n, task in enumerate(tasks, start=1):  # what Label Studio exports after annotation
        i = int(task["data"]["id"][2:]) - 1
        chosen = [t for j, t in enumerate(IDS) if files["truth"][i, j]]
        result = [{"from_name": "themes", "to_name": "tekst", "type": "choices", "value": {"choices": chosen}}]
        export.append({"id": n, "data": task["data"], "annotations": [{"result": result, "completed_by": 1}]})
    export_file = tmp_path / "export.json"
    export_file.write_text(json.dumps(export), encoding="utf-8")
    imported = tmp_path / "gecontroleerd.jsonl"
    assert runner.invoke(app, ["labelstudio", "import", str(export_file), "-o", str(imported)]).exit_code == 0
    for verified in (imported, export_file):  # the import's output, or the export itself
        r = runner.invoke(app, ["counts", str(files["tagged"]), "--verified", str(verified), "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["verified"] == 35


def test_tag_does_not_import_ppi():
    code = "import sys, meldtekst.cli; print(any(m in sys.modules for m in ('ppi_py', 'numba')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- the staff workflow, end to end


def test_end_to_end_sample_fill_counts_report(tmp_path):
    src = pd.read_csv(ROOT / "data" / "voorbeeld_meldingen.csv", sep=";", dtype=str, encoding="utf-8-sig")
    both = pd.concat([src.assign(id=src["id"] + "-a"), src.assign(id=src["id"] + "-b")], ignore_index=True)
    reports = tmp_path / "meldingen.csv"
    both.to_csv(reports, index=False, sep=";")
    tagged = tmp_path / "getagd.csv"
    r = runner.invoke(app, ["tag", str(reports), "-o", str(tagged), "-q"])
    if r.exit_code != 0:
        pytest.skip(f"`meldtekst tag` with the shipped model fails in this tree: {r.exception!r}"[:300])
    sheet = tmp_path / "TE_CONTROLEREN.xlsx"
    r = runner.invoke(app, ["verify-sample", str(tagged), "-n", "40", "-o", str(sheet), "--seed", "2024"])
    assert r.exit_code == 0, r.output
    # the checker: agrees with the model except that 'thuiszitter' is in every report with "thuis"
    frame = pd.read_csv(tagged, sep=None, engine="python", dtype=str, encoding="utf-8-sig").set_index("id")
    wb = openpyxl.load_workbook(sheet)
    ws = wb["Controleren"]
    header = [c.value for c in ws[1]]
    for r_ in range(2, ws.max_row + 1):
        rid, text = ws.cell(r_, header.index("id") + 1).value, ws.cell(r_, header.index("tekst") + 1).value or ""
        ws.cell(r_, header.index("gecontroleerd") + 1).value = 1
        for t in IDS:
            present = frame.loc[rid, t] == "1" or (t == "thuiszitter" and "thuis" in text.lower())
            ws.cell(r_, header.index(t) + 1).value = 1 if present else None
    wb.save(sheet)
    r = runner.invoke(app, ["counts", str(tagged), "--verified", str(sheet), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["reports"] == 2 * len(src) and doc["verified"] == 40 and len(doc["themes"]) == len(IDS)
    thuis = next(t for t in doc["themes"] if t["id"] == "thuiszitter")
    assert thuis["estimate"] > thuis["tagged"] and thuis["low"] <= thuis["estimate"] <= thuis["high"]
    md, html = tmp_path / "rapport.md", tmp_path / "rapport.html"
    for out in (md, html):
        r = runner.invoke(app, ["report", str(tagged), "--verified", str(sheet), "-o", str(out), "--no-highlight"])
        assert r.exit_code == 0, r.output
    text = md.read_text(encoding="utf-8")
    low, high = int(np.floor(thuis["low"] + 1e-9)), int(np.ceil(thuis["high"] - 1e-9))
    assert re.search(
        rf"\| Thuiszitter \| thuiszitter \| [^|]+ \| {thuis['tagged']} \| {round(thuis['estimate'])} \| "
        rf"{low} \| {high} \|",
        text,
    ), text[:2000]
    assert "Met de hand gecontroleerd: 40 van de 50 meldingen" in text and "seed 2024" in text
    page = html.read_text(encoding="utf-8")
    assert "95%-BI laag (aantal)" in page and "Geschat aantal" in page and "prediction-powered inference" in page
    assert page.count("data:image/png;base64,") >= 2


def test_report_falls_back_to_model_counts_when_a_period_has_too_few_verified(files):
    from meldtekst.reporting import build_report

    full = build_report(files["tagged"], verified=files["verified"], charts=False)
    assert full.estimates is not None and full.verification.verified == 40
    assert "Geschat aantal" in full.tables["themas"].frame.columns
    part = build_report(
        files["tagged"], verified=files["verified"], date_from="2023-01-01", date_to="2023-12-31", charts=False
    )
    assert part.estimates is None and part.verification is not None and not part.verification.used
    assert any("too few for estimates" in w for w in part.warnings)
    assert "Meldingen" in part.tables["themas"].frame.columns  # the model's counts, said so
