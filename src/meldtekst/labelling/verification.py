"""The verification sample: a simple random sample of tagged reports for people to check by hand,
and reading their checked themes back for `meldtekst counts --verified` and `report --verified`.

The sample is drawn with a recorded seed, in random order (whoever stops halfway has still
checked a random sample), and written as an Excel sheet with one blank 0/1 column per theme
(blank, so the model's tags cannot anchor the checker; ``prefill`` shows them), a JSONL file,
or Label Studio tasks for the existing `labelstudio import` round trip. Reading back accepts
that sheet, `labelstudio import` output (or a Label Studio JSON export), or any labelled
JSONL/CSV/XLSX with ``id`` and ``labels``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from meldtekst.codebook import Codebook, load_codebook
from meldtekst.errors import InputError
from meldtekst.io import atomic_path, read_all, table_format, write_table
from meldtekst.validate import is_blank, parse_labels

if TYPE_CHECKING:
    from meldtekst.reporting.data import TaggedReports

MIN_VERIFIED = 30  # below this a normal-approximation interval does not hold (and the note says so)
ADVISED_VERIFIED = 100  # from here on the simulation's intervals held >= 93 % of the time
SHEET = "Controleren"
META_SHEET = "Steekproef"
HELP_SHEET = "Uitleg"
CHECKED = "gecontroleerd"
NOTE = "opmerking"
SAMPLE_FORMATS = (".xlsx", ".jsonl", ".json")
# per-row fields that record the draw in JSONL files and Label Studio tasks (they survive `labelstudio import`)
SEED_FIELD, POPULATION_FIELD, SOURCE_FIELD, ORDER_FIELD = (
    "steekproef_seed",
    "steekproef_van",
    "steekproef_bron",
    "steekproef_nr",
)
_YES = {"1", "1.0", "ja", "j", "x", "yes", "y", "true", "waar", "✓", "v"}
_NO = {"", "0", "0.0", "nee", "n", "no", "false", "onwaar", "-"}

INSTRUCTIONS = (
    "Waarom: het model dat de meldingen van thema's voorziet, maakt fouten. Met deze steekproef schatten we hoe "
    "vaak, zodat de aantallen in het lobbyrapport kloppen en een eerlijk betrouwbaarheidsinterval krijgen.",
    "Lees per rij de hele melding (kolom 'tekst').",
    "Zet een 1 in de kolom van elk thema dat in de melding voorkomt. Laat de cel leeg (of zet 0) als het thema "
    "niet voorkomt. Twijfel? Lees de definitie hieronder; kies wat de definitie zegt, niet wat het model zou doen.",
    "Zet daarna een 1 in de kolom 'gecontroleerd'. Alleen rijen met een 1 in 'gecontroleerd' tellen mee; een "
    "melding zonder enig thema is dus gewoon 'gecontroleerd' = 1 met alle themacellen leeg.",
    "Werk van boven naar beneden en sla geen rijen over: de rijen staan in willekeurige volgorde, dus wie halverwege "
    "stopt, heeft nog steeds een eerlijke steekproef. Sla alleen over wat echt onleesbaar is, en noteer dat in "
    "'opmerking'.",
    "Verander de kolommen 'id' en de kolomnamen niet, en voeg geen rijen toe.",
    "Klaar? Maak het rapport met: meldtekst report GETAGD --verified DIT_BESTAND.xlsx -o rapport.html",
)


@dataclass
class SampleSummary:
    """What `verify-sample` wrote: counts and the seed, never text."""

    output: Path
    population: int
    size: int
    seed: int
    prefilled: bool
    warnings: list[str] = field(default_factory=list)


@dataclass
class VerifiedSample:
    """Checked themes of a random sample of a tagged file's reports (ids and 0/1, never text)."""

    path: Path
    ids: list[str]
    y: np.ndarray  # n x k int8, codebook order
    seed: int | None = None
    population: int | None = None
    prefilled: bool | None = None
    unchecked: int = 0
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def within(self, data: TaggedReports) -> tuple[np.ndarray, np.ndarray]:
        """Positions in ``data`` of the verified reports it holds, and their labels: a sample
        restricted to a period is still a simple random sample of that period's reports."""
        if data.ids is None:
            raise InputError("has no 'id' column to match the verified reports with", path=data.path)
        pos = {rid: i for i, rid in enumerate(data.ids)}
        keep = [j for j, rid in enumerate(self.ids) if rid in pos]
        rows = np.array([pos[self.ids[j]] for j in keep], dtype=int)
        return rows, self.y[keep] if keep else np.zeros((0, self.y.shape[1]), dtype=np.int8)


# --------------------------------------------------------------------------- drawing


def _unique_ids(data: TaggedReports) -> list[str]:
    if data.ids is None:
        raise InputError("has no 'id' column; a verification sample needs an id per report", path=data.path)
    seen: dict[str, int] = {}
    for i, rid in enumerate(data.ids, start=1):
        if not rid:
            raise InputError("empty id; every report needs an id to be verified", path=data.path, row=i, column="id")
        if rid in seen:
            raise InputError(f"id '{rid[:40]}' repeats row {seen[rid]}; ids must be unique", path=data.path, row=i)
        seen[rid] = i
    return data.ids


def draw_sample(
    tagged: str | Path,
    output: str | Path,
    *,
    n: int = 100,
    seed: int | None = None,
    prefill: bool = False,
    text_column: str = "tekst",
    sheet: str | None = None,
) -> SampleSummary:
    """Draw a simple random sample of ``n`` reports of ``tagged`` (seeded) and write it for checking."""
    from meldtekst.reporting.data import load_tagged

    out = Path(output)
    suffix = out.suffix.lower()
    if suffix not in SAMPLE_FORMATS:
        raise InputError(f"unknown sample type '{suffix or '(none)'}'; use .xlsx, .jsonl or .json", path=out)
    if n < 1:
        raise InputError("-n must be at least 1")
    if Path(tagged).resolve() == out.resolve():
        raise InputError("output must not be the input file", path=out)
    data = load_tagged(tagged, sheet=sheet, text_column=text_column)
    ids = _unique_ids(data)
    if data.texts is None:
        raise InputError(f"has no text column '{text_column}' to show the checkers", path=data.path)
    warnings = []
    if n > len(data):
        warnings.append(f"TAGGED has only {len(data)} report(s): all are in the sample")
        n = len(data)
    if seed is None:
        seed = secrets.randbelow(2**31)
    order = np.random.default_rng(seed).choice(len(data), size=n, replace=False)
    cb = load_codebook()
    meta = {
        SOURCE_FIELD: Path(tagged).name,
        POPULATION_FIELD: len(data),
        SEED_FIELD: int(seed),
    }
    rows = [
        {
            "nr": k + 1,
            "id": ids[i],
            "tekst": data.texts[i],
            "tags": [t for j, t in enumerate(data.theme_ids) if data.assigned[i, j]],
        }
        for k, i in enumerate(order)
    ]
    if suffix == ".xlsx":
        _write_sheet(out, rows, meta, cb, prefill=prefill)
    elif suffix == ".jsonl":
        records = [
            {
                "id": r["id"],
                "tekst": r["tekst"],
                "labels": r["tags"] if prefill else [],
                CHECKED: False,
                ORDER_FIELD: r["nr"],
                **meta,
            }
            for r in rows
        ]
        write_table(pd.DataFrame(records), out)
    else:
        _write_tasks(out, rows, meta, prefill=prefill)
    return SampleSummary(out, len(data), n, int(seed), prefill, warnings)


def _write_tasks(path: Path, rows: list[dict[str, Any]], meta: dict[str, Any], *, prefill: bool) -> None:
    """Label Studio tasks (the `labelstudio config` interface); with ``prefill`` the tags as predictions."""
    from meldtekst.labelling.files import write_json_atomic
    from meldtekst.labelling.labelstudio import CONTROL, TEXT_FIELD

    tasks = []
    for r in rows:
        task: dict[str, Any] = {"data": {"id": r["id"], TEXT_FIELD: r["tekst"], ORDER_FIELD: r["nr"], **meta}}
        if prefill:
            result = [{"from_name": CONTROL, "to_name": TEXT_FIELD, "type": "choices", "value": {"choices": r["tags"]}}]
            task["predictions"] = [{"model_version": "meldtekst tag", "result": result if r["tags"] else []}]
        tasks.append(task)
    write_json_atomic(path, tasks)


def _write_sheet(path: Path, rows: list[dict[str, Any]], meta: dict[str, Any], cb: Codebook, *, prefill: bool) -> None:
    """The checking sheet, the instructions with every theme's definition, and the draw's record."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    header = ["nr", "id", "tekst", CHECKED, *cb.ids, NOTE]
    ws.append(header)
    bold = Font(bold=True)
    for c, name in enumerate(header, start=1):
        cell = ws.cell(row=1, column=c)
        cell.font = bold
        if name in cb:
            cell.comment = Comment(f"{cb[name].name}: {cb[name].definition}"[:1000], "meldtekst")
            cell.alignment = Alignment(text_rotation=90)
    for r in rows:
        values: list[Any] = [r["nr"], r["id"], ILLEGAL_CHARACTERS_RE.sub("", r["tekst"])[:32000], None]
        values += [(1 if t in r["tags"] else None) if prefill else None for t in cb.ids]
        values.append(None)
        ws.append(values)
    last = len(rows) + 1
    for row in ws.iter_rows(min_row=2, max_row=last, min_col=2, max_col=3):
        row[0].data_type = "s"  # an id stays text (007 keeps its zeros)
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 5
    ws.column_dimensions["B"].width = 12
    ws.column_dimensions["C"].width = 80
    ws.column_dimensions["D"].width = 6
    for c in range(5, 5 + len(cb.ids)):
        ws.column_dimensions[get_column_letter(c)].width = 4
    ws.column_dimensions[get_column_letter(5 + len(cb.ids))].width = 30
    ws.freeze_panes = "D2"
    fill = PatternFill("solid", fgColor="FFF4CC")
    first, end = get_column_letter(4), get_column_letter(4 + len(cb.ids))
    dv = DataValidation(type="list", formula1='"0,1"', allow_blank=True, showErrorMessage=True)
    dv.error, dv.errorTitle = "Vul 1 in (komt voor) of laat leeg / 0 (komt niet voor).", "Alleen 0 of 1"
    ws.add_data_validation(dv)
    dv.add(f"{first}2:{end}{last}")
    for row in ws.iter_rows(min_row=2, max_row=last, min_col=4, max_col=4):
        row[0].fill = fill

    help_ws = wb.create_sheet(HELP_SHEET)
    help_ws.append(["Zo controleert u de steekproef"])
    help_ws["A1"].font = Font(bold=True, size=13)
    for i, line in enumerate(INSTRUCTIONS, start=1):
        help_ws.append([f"{i}. {line}"])
    if prefill:
        help_ws.append(["Let op: de themacellen zijn voorgevuld met de keuzes van het model. Verbeter ze waar nodig."])
    help_ws.append([])
    help_ws.append(["Thema (kolom)", "Naam", "Definitie"])
    for c in range(1, 4):
        help_ws.cell(row=help_ws.max_row, column=c).font = bold
    for t in cb.themes:
        help_ws.append([t.id, t.name, t.definition])
    help_ws.column_dimensions["A"].width = 28
    help_ws.column_dimensions["B"].width = 30
    help_ws.column_dimensions["C"].width = 110
    for row in help_ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    meta_ws = wb.create_sheet(META_SHEET)
    for key, value in (
        ("methode", "enkelvoudige aselecte steekproef (zonder teruglegging), in willekeurige volgorde"),
        (SOURCE_FIELD, meta[SOURCE_FIELD]),
        (POPULATION_FIELD, meta[POPULATION_FIELD]),
        ("steekproef_grootte", len(rows)),
        (SEED_FIELD, meta[SEED_FIELD]),
        ("voorgevuld", "ja" if prefill else "nee"),
        ("getrokken_op", dt.date.today().isoformat()),
        ("codeboek_versie", cb.version),
    ):
        meta_ws.append([key, value])
    meta_ws.column_dimensions["A"].width = 22
    meta_ws.column_dimensions["B"].width = 70
    with atomic_path(path) as tmp:
        wb.save(tmp)


# --------------------------------------------------------------------------- reading back


def _flag(value: Any, path: Path, row: str, column: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if is_blank(value):
        return False
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InputError(f"{row}, column '{column}': expected 1 or empty (or 0), found '{str(value)[:20]}'", path=path)


def _sheet_meta(path: Path) -> dict[str, Any]:
    """The draw's record from the 'Steekproef' sheet of a checking sheet ({} when there is none)."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # read_all reports an unreadable workbook with one line
        return {}
    try:
        if META_SHEET not in wb.sheetnames:
            return {}
        return {str(k): v for k, v, *_ in wb[META_SHEET].iter_rows(values_only=True) if k is not None}
    finally:
        wb.close()


def _read_frame(path: Path) -> tuple[pd.DataFrame, str, dict[str, Any]]:
    """The rows of a verified file, its format (for label parsing) and the draw's record."""
    if path.suffix.lower() == ".json":
        from meldtekst.labelling.labelstudio import read_export

        frame, _summary = read_export(path)
        if frame.empty:
            raise InputError("no annotated tasks in the Label Studio export", path=path)
        return frame, "jsonl", {}
    fmt = table_format(path)
    meta: dict[str, Any] = {}
    sheet = None
    if fmt == "xlsx":
        meta = _sheet_meta(path)
        if meta:
            sheet = SHEET
    return read_all(path, sheet=sheet), fmt, meta


def _int_or_none(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def read_verified(
    path: str | Path, tagged: TaggedReports, *, min_size: int = MIN_VERIFIED, codebook: Codebook | None = None
) -> VerifiedSample:
    """The checked themes in ``path`` for reports of ``tagged``, or one line naming file and row.

    A checking sheet or JSONL with a 'gecontroleerd' column counts only the rows marked checked
    (the others are left out, with a warning); other files count every row. An id that is not
    in ``tagged``, an id twice, an unknown theme, or fewer than ``min_size`` checked reports
    (unless every report of ``tagged`` was checked) is an error.
    """
    from meldtekst.reporting.data import id_text

    path = Path(path)
    cb = codebook or load_codebook()
    tagged_ids = _unique_ids(tagged)
    frame, fmt, meta = _read_frame(path)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    excel = fmt == "xlsx"

    def where(i: int) -> str:
        return f"row {i}" + (f" (Excel row {i + 1})" if excel else "")

    if "id" not in columns:
        raise InputError("no 'id' column; the verified file must keep the ids of the sample", path=path)
    matrix = all(t in columns for t in cb.ids)
    if not matrix and "labels" not in columns:
        present = [t for t in cb.ids if t in columns]
        if present:
            missing = ", ".join(t for t in cb.ids if t not in columns)
            raise InputError(f"theme column(s) missing: {missing[:200]}", path=path)
        raise InputError("needs one 0/1 column per theme (the checking sheet) or a 'labels' column", path=path)
    checked_col = CHECKED if CHECKED in columns else None
    known = set(tagged_ids)
    seen: dict[str, int] = {}
    ids: list[str] = []
    rows_y: list[np.ndarray] = []
    unchecked = 0
    records = frame.to_dict("records")
    for i, rec in enumerate(records, start=1):
        rid = id_text(rec.get("id"))
        if not rid:
            if all(is_blank(v) for v in rec.values()):
                continue
            raise InputError(f"{where(i)}: empty id", path=path)
        if rid in seen:
            raise InputError(f"{where(i)}: duplicate id '{rid[:40]}' (also in row {seen[rid]})", path=path)
        seen[rid] = i
        if rid not in known:
            raise InputError(f"{where(i)}: id '{rid[:40]}' is not in {tagged.path.name}", path=path)
        if checked_col is not None and not _flag(rec.get(checked_col), path, where(i), checked_col):
            unchecked += 1
            continue
        y = np.zeros(len(cb.ids), dtype=np.int8)
        if matrix:
            for j, t in enumerate(cb.ids):
                y[j] = _flag(rec.get(t), path, where(i), t)
        else:
            value = rec.get("labels")
            if value is None and fmt == "jsonl":
                unchecked += 1  # a template row nobody filled in
                continue
            for t in parse_labels(value, fmt=fmt, codebook=cb, path=path, row=i, column="labels"):
                y[cb.ids.index(t)] = 1
        ids.append(rid)
        rows_y.append(y)
    n, population = len(ids), len(tagged_ids)
    if n < min_size and n != population:
        raise InputError(
            f"only {n} checked report(s) ({len(records)} rows, {unchecked} of them not marked "
            f"'{CHECKED}' = 1); at least {min_size} are needed for an interval that holds",
            path=path,
        )
    warnings = []
    if n < ADVISED_VERIFIED and n != population:
        warnings.append(
            f"only {n} checked reports: below {ADVISED_VERIFIED} the 95% intervals may hold less often than they "
            "should (91-95% of the time with 50 in evaluation/ppi_counts.py); check 100 or more"
        )
    if unchecked:
        warnings.append(
            f"{unchecked} row(s) of {path.name} not checked: left out; the estimate assumes that which rows "
            "were checked has nothing to do with their themes"
        )
    seed = _int_or_none(meta.get(SEED_FIELD, records[0].get(SEED_FIELD) if records else None))
    drawn_from = _int_or_none(meta.get(POPULATION_FIELD, records[0].get(POPULATION_FIELD) if records else None))
    if drawn_from is not None and drawn_from != population:
        warnings.append(
            f"{path.name} was drawn from {drawn_from} reports, {tagged.path.name} has {population}: "
            "a sample drawn from another file is not a random sample of this one"
        )
    prefilled = None
    if "voorgevuld" in meta:
        prefilled = str(meta["voorgevuld"]).strip().lower() == "ja"
    y = np.vstack(rows_y) if rows_y else np.zeros((0, len(cb.ids)), dtype=np.int8)
    return VerifiedSample(path, ids, y, seed, drawn_from, prefilled, unchecked, warnings)
