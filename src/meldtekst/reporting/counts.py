"""The numbers of a lobby report: theme counts with Wilson intervals, periods, roles, sectors,
co-occurrence and combinations, with small counts suppressed.

Tables keep numbers as numbers; a count below ``min_count`` becomes the text ``"< 5"``
(always 1 to 4) and its share and interval become None. Where cells add up to a shown total
(periods, roles), a single suppressed cell would be recoverable by subtraction, so the next
smallest cell is hidden too: it shows ``"×"`` (the CBS sign for "secret"), never ``"< 5"``,
because it may hold any number.

With a verified sample (``verified=``) the themes and groups tables carry the estimated true
count and its 95 % interval by prediction-powered inference (`meldtekst.reporting.estimates`)
next to the tagged count; without one they say the counts are the model's and give its
measured precision per theme.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from meldtekst.codebook import Codebook, load_codebook
from meldtekst.errors import InputError
from meldtekst.reporting.data import TaggedReports, load_tagged, parse_date

if TYPE_CHECKING:
    from meldtekst.labelling.verification import VerifiedSample
    from meldtekst.models.store import ThemeModelDir
    from meldtekst.reporting.estimates import CountEstimates
    from meldtekst.reporting.quotes import Quote

PERIODS = ("maand", "kwartaal", "schooljaar", "jaar", "rol")
PERIOD_TITLES = {
    "maand": "per maand",
    "kwartaal": "per kwartaal",
    "schooljaar": "per schooljaar (1 augustus – 31 juli)",
    "jaar": "per jaar",
    "rol": "per rol van de melder",
}
UNDATED = "zonder datum"
OTHER_ROLES = "overige rollen"
TOP_COMBINATIONS = 10
SECONDARY = "×"  # hidden to protect another cell (CBS: "geheim"); it may hold any number


@dataclass
class Table:
    """One table of the report: a sheet in Excel, a section in HTML and Markdown."""

    key: str
    title: str
    frame: pd.DataFrame
    percent: tuple[str, ...] = ()
    note: str = ""
    empty: str = ""  # why the table has no rows, shown instead of an empty table


@dataclass
class ModelInfo:
    """What the methods note says about the model: its name and measured F1 per theme."""

    spec: str
    available: bool
    name: str = ""
    version: str = ""
    f1: dict[str, float] = field(default_factory=dict)
    per_theme: dict[str, dict[str, float]] = field(default_factory=dict)
    micro_f1: float | None = None
    macro_f1: float | None = None
    test_rows: int | None = None
    note: str = ""


@dataclass
class Chart:
    key: str
    title: str
    png: bytes
    alt: str


@dataclass
class Verification:
    """What the methods note says about the verified sample (counts and the seed, never text)."""

    file: str
    verified: int  # checked reports among the reports in this report
    reports: int
    seed: int | None = None
    prefilled: bool | None = None
    unchecked: int = 0
    used: bool = True  # False: too few checked reports in the chosen period, so no estimates


@dataclass
class Report:
    """Everything a renderer needs; contains no report text except de-identified quotes."""

    source: str
    by: str
    min_count: int
    n_rows: int
    n_reports: int
    n_undated: int
    n_outside: int
    n_with_theme: int
    first_date: dt.date | None
    last_date: dt.date | None
    date_from: dt.date | None
    date_to: dt.date | None
    model: ModelInfo
    tables: dict[str, Table]
    theme_names: dict[str, str]
    quotes: dict[str, list[Quote]] = field(default_factory=dict)
    highlighted_by: str = ""  # the model whose explanation spans are marked in the quotes; "" for none
    charts: dict[str, Chart] = field(default_factory=dict)
    generated: dt.date = field(default_factory=dt.date.today)
    warnings: list[str] = field(default_factory=list)
    estimates: CountEstimates | None = None  # PPI estimates per theme; None without a usable verified sample
    verification: Verification | None = None
    chart_notes: dict[str, str] = field(default_factory=dict)  # why a chart is left out, keyed like charts
    secondary_used: bool = False  # some cell shows SECONDARY

    @property
    def suppressed_label(self) -> str:
        return f"< {self.min_count}"

    @property
    def marks(self) -> tuple[str, str]:
        """The texts that stand for a hidden count: they align like numbers."""
        return self.suppressed_label, SECONDARY

    @property
    def period_text(self) -> str:
        start = self.date_from or self.first_date
        end = self.date_to or self.last_date
        if start is None and end is None:
            return "onbekend (geen datums)"
        return f"{nl_date(start) if start else '…'} t/m {nl_date(end) if end else '…'}"


_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def nl_date(d: dt.date) -> str:
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


# --------------------------------------------------------------------------- statistics


def wilson(count: int, n: int) -> tuple[float, float] | tuple[None, None]:
    """95 % Wilson score interval for count/n (statsmodels); (None, None) when n is 0."""
    if n <= 0:
        return None, None
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(count, n, alpha=0.05, method="wilson")
    return float(lo), float(hi)


def suppress(values: Sequence[int], min_count: int, *, partition: bool = False) -> list[bool]:
    """Which counts to hide: 1 .. min_count-1 (zero stays visible: it identifies no one).

    With ``partition`` (the cells add up to a total that is shown) a lone hidden cell
    would follow from the total, so the smallest other non-zero cell is hidden too.
    """
    hidden = [0 < int(v) < min_count for v in values]
    if partition and sum(hidden) == 1:
        others = [(int(v), i) for i, v in enumerate(values) if not hidden[i] and int(v) > 0]
        if others:
            hidden[min(others)[1]] = True
    return hidden


def period_key(d: dt.date, by: str) -> tuple[int, ...]:
    if by == "maand":
        return (d.year, d.month)
    if by == "kwartaal":
        return (d.year, (d.month - 1) // 3 + 1)
    if by == "schooljaar":
        return (d.year if d.month >= 8 else d.year - 1,)
    if by == "jaar":
        return (d.year,)
    raise ValueError(f"not a time period: {by}")


def period_label(key: tuple[int, ...], by: str) -> str:
    """2024-03 (maand), 2024-K1 (kwartaal), 2023/2024 (schooljaar), 2024 (jaar)."""
    if by == "maand":
        return f"{key[0]}-{key[1]:02d}"
    if by == "kwartaal":
        return f"{key[0]}-K{key[1]}"
    if by == "schooljaar":
        return f"{key[0]}/{key[0] + 1}"
    return str(key[0])


def _next_key(key: tuple[int, ...], by: str) -> tuple[int, ...]:
    if by == "maand":
        return (key[0] + key[1] // 12, key[1] % 12 + 1)
    if by == "kwartaal":
        return (key[0] + key[1] // 4, key[1] % 4 + 1)
    return (key[0] + 1,)


def period_range(first: tuple[int, ...], last: tuple[int, ...], by: str) -> list[tuple[int, ...]]:
    """Every period from first to last, also those without reports (an honest time axis)."""
    keys = [first]
    while keys[-1] < last:
        keys.append(_next_key(keys[-1], by))
    return keys


# --------------------------------------------------------------------------- model info


def model_info(spec: str | Path | None = None) -> ModelInfo:
    """Name, version and test F1 per theme from a model's meta.json; never fails the report."""
    from meldtekst.errors import MeldtekstError
    from meldtekst.models.store import META, default_model_name, load_model, models_home

    name = str(spec) if spec is not None else default_model_name()
    meta: dict[str, Any] | None = None
    try:
        if name.startswith(("models:/", "runs:/")):
            meta = load_model(name).meta
        else:
            folder = Path(name) if Path(name).is_dir() else models_home() / name
            meta_file = folder / META
            if not meta_file.is_file():
                return ModelInfo(spec=name, available=False, note=f"model '{name}' niet gevonden")
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (MeldtekstError, OSError, ValueError) as exc:
        return ModelInfo(spec=name, available=False, note=f"model '{name}' niet te lezen ({type(exc).__name__})")
    assert meta is not None
    info = ModelInfo(spec=name, available=True, name=str(meta.get("name", name)), version=str(meta.get("version", "")))
    test = (meta.get("metrics") or {}).get("test") or {}
    per_theme = test.get("per_theme") or {}
    for theme, m in per_theme.items():
        if isinstance(m, dict) and m.get("f1") is not None:
            info.f1[theme] = float(m["f1"])
            info.per_theme[theme] = {k: float(v) for k, v in m.items() if isinstance(v, (int, float))}
    info.micro_f1 = _float(test.get("micro_f1"))
    info.macro_f1 = _float(test.get("macro_f1"))
    rows = (meta.get("training_data") or {}).get("test_rows")
    info.test_rows = int(rows) if isinstance(rows, (int, float)) else None
    if not info.f1:
        info.note = "het model heeft geen gemeten F1 per thema op een testset"
    return info


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


# --------------------------------------------------------------------------- tables


def _count_cell(value: int, hidden: bool, label: str) -> int | str:
    """The count, or "< k" for a small one, or "×" for one hidden to protect another cell."""
    if not hidden:
        return int(value)
    k = int(label.removeprefix("< "))
    return label if 0 < int(value) < k else SECONDARY


def _theme_table(
    data: TaggedReports, cb: Codebook, model: ModelInfo, k: int, label: str, est: CountEstimates | None
) -> Table:
    """Per theme: without a verified sample the tagged count, its share and Wilson interval and the
    model's measured precision; with one, the estimated true count and its interval next to it."""
    n = len(data)
    rows = []
    for j, t in enumerate(data.theme_ids):
        count = int(data.assigned[:, j].sum())
        hidden = 0 < count < k
        row: dict[str, Any] = {"Thema": cb[t].name, "Id": t, "Groep": cb.groups.get(cb[t].group, cb[t].group)}
        if est is None:
            lo, hi = wilson(count, n)
            row |= {
                "Meldingen": _count_cell(count, hidden, label),
                "Aandeel": None if hidden or not n else count / n,
                "95%-BI laag": None if hidden else lo,
                "95%-BI hoog": None if hidden else hi,
                "Precisie model": model.per_theme.get(t, {}).get("precision"),
            }
        else:
            row |= {"Getagd door model": _count_cell(count, hidden, label), **_estimate_cells(est[t], n, label)}
        row["F1 model"] = model.f1.get(t)
        rows.append(row)
    if est is None:
        note = (
            "Aantallen van het model, niet met de hand gecontroleerd. Aandeel van alle meldingen in de periode; "
            "95%-betrouwbaarheidsinterval volgens Wilson: alleen het toeval, niet de fouten van het model. "
            "Precisie model: welk deel van de meldingen die het model dit thema geeft het thema echt heeft "
            "(gemeten op een testset; bij 0,66 is een derde van de getelde meldingen onterecht). "
            "F1 model: hoe goed het model dit thema herkent (1 = perfect)."
        )
        percent: tuple[str, ...] = ("Aandeel", "95%-BI laag", "95%-BI hoog")
    else:
        note = (
            f"Getagd door model: meldingen die het model dit thema gaf. Geschat aantal: hoeveel meldingen het "
            f"thema echt hebben, geschat met de {est.verified} met de hand gecontroleerde meldingen; het "
            "95%-betrouwbaarheidsinterval (in meldingen) omvat het toeval van de steekproef en de fouten van het "
            f"model. Een geschat aantal onder {k} staat er als '{label}', zonder interval."
        )
        percent = ("Aandeel (geschat)",)
    return Table("themas", "Thema's", _frame(rows), percent, note)


_WHOLE = ("Geschat aantal", "95%-BI laag (aantal)", "95%-BI hoog (aantal)")


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a table whose whole-number columns stay whole numbers where some cells are empty
    (pandas would make them 8.0, shown as '8,00')."""
    frame = pd.DataFrame(rows)
    for c in _WHOLE:
        if c in frame.columns:
            frame[c] = pd.Series([r.get(c) for r in rows], dtype=object)
    return frame


def _estimate_cells(tc: Any, n: int, label: str) -> dict[str, Any]:
    """Estimate (whole reports), interval (rounded outwards) and estimated share of one row.

    An estimate is no count of particular reports, so it is shown even where the tagged count is
    hidden (the model may miss most reports of a theme); one that rounds to 1 .. k-1 is "< k"."""
    if tc.estimate is None:
        return dict.fromkeys((*_WHOLE, "Aandeel (geschat)"))
    k = int(label.removeprefix("< "))
    if 0 < round(tc.estimate) < k:
        return {"Geschat aantal": label, **dict.fromkeys((*_WHOLE[1:], "Aandeel (geschat)"))}
    return {
        "Geschat aantal": round(tc.estimate),
        "95%-BI laag (aantal)": math.floor(tc.low + 1e-9),
        "95%-BI hoog (aantal)": math.ceil(tc.high - 1e-9),
        "Aandeel (geschat)": tc.estimate / n if n else None,
    }


def _group_table(data: TaggedReports, cb: Codebook, k: int, label: str, verified: VerifiedSample | None) -> Table:
    n = len(data)
    groups = [
        (g, g_name, [j for j, t in enumerate(data.theme_ids) if cb[t].group == g]) for g, g_name in cb.groups.items()
    ]
    in_group = np.column_stack(
        [data.assigned[:, cols].any(axis=1) if cols else np.zeros(n, bool) for _, _, cols in groups]
    )
    est = None
    if verified is not None:
        from meldtekst.reporting.estimates import verified_counts

        rows_v, y = verified.within(data)
        y_group = np.column_stack([y[:, cols].any(axis=1) if cols else np.zeros(len(y), bool) for _, _, cols in groups])
        est = verified_counts(in_group, rows_v, y_group, [g for g, _, _ in groups])
    rows = []
    for c, (g, g_name, cols) in enumerate(groups):
        count = int(in_group[:, c].sum())
        hidden = 0 < count < k
        row: dict[str, Any] = {"Groep": g_name, "Id": g, "Thema's": len(cols)}
        if est is None:
            lo, hi = wilson(count, n)
            row |= {
                "Meldingen": _count_cell(count, hidden, label),
                "Aandeel": None if hidden or not n else count / n,
                "95%-BI laag": None if hidden else lo,
                "95%-BI hoog": None if hidden else hi,
            }
        else:
            row |= {"Getagd door model": _count_cell(count, hidden, label), **_estimate_cells(est[g], n, label)}
        rows.append(row)
    note = "Meldingen met minstens één thema uit de groep (een melding telt één keer per groep)."
    percent = ("Aandeel", "95%-BI laag", "95%-BI hoog") if est is None else ("Aandeel (geschat)",)
    return Table("groepen", "Groepen van thema's", _frame(rows), percent, note)


def _roles(data: TaggedReports, k: int) -> tuple[list[str], list[str]]:
    """Role per report and the role order; roles with fewer than k reports merge into one group,
    so that a rare (or mistyped, or personal) role value never appears as a label."""
    assert data.roles is not None
    counts = Counter(data.roles)
    small = {r for r, c in counts.items() if c < k}
    roles = [OTHER_ROLES if r in small else r for r in data.roles]
    order = [r for r, _ in Counter(roles).most_common() if r != OTHER_ROLES]
    if OTHER_ROLES in roles:
        order.append(OTHER_ROLES)
    return roles, order


def _breakdown_rows(
    data: TaggedReports, groups: list[str | None], order: list[str], k: int, label: str, extra: str | None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows = groups (periods or roles, then ``extra`` for reports without a group), columns = themes.

    Returns the table, the totals and counts, and which totals and counts are hidden.
    """
    names = list(order) + ([extra] if extra else [])
    pos = {g: i for i, g in enumerate(order)}
    totals = np.zeros(len(names), dtype=int)
    counts = np.zeros((len(names), len(data.theme_ids)), dtype=int)
    for i, g in enumerate(groups):
        r = pos[g] if g is not None else len(order)
        totals[r] += 1
        counts[r] += data.assigned[i]
    hidden_tot = np.array(suppress(totals.tolist(), k, partition=True), dtype=bool)
    hidden = np.zeros_like(counts, dtype=bool)
    for j in range(counts.shape[1]):
        hidden[:, j] = suppress(counts[:, j].tolist(), k, partition=True)
    cb = load_codebook()
    frame = pd.DataFrame({"Meldingen": [_count_cell(v, h, label) for v, h in zip(totals, hidden_tot, strict=True)]})
    for j, t in enumerate(data.theme_ids):
        frame[cb[t].name] = [_count_cell(v, h, label) for v, h in zip(counts[:, j], hidden[:, j], strict=True)]
    frame.insert(0, "Groep", names)
    return frame, totals, counts, hidden | hidden_tot[:, None], hidden_tot


def _sector_table(data: TaggedReports, cb: Codebook, k: int, label: str) -> Table | None:
    sector_cols = [j for j, t in enumerate(data.theme_ids) if t.startswith("sector_")]
    if not sector_cols:
        return None
    other_cols = [j for j in range(len(data.theme_ids)) if j not in sector_cols]
    in_sector = data.assigned[:, sector_cols]
    none = ~in_sector.any(axis=1)
    columns = {cb[data.theme_ids[j]].name: data.assigned[:, j] for j in sector_cols}
    columns["Geen sector"] = none
    rows = [{"Thema": "Alle meldingen", **{c: int(m.sum()) for c, m in columns.items()}}]
    for j in other_cols:
        rows.append(
            {
                "Thema": cb[data.theme_ids[j]].name,
                **{c: int((m & data.assigned[:, j]).sum()) for c, m in columns.items()},
            }
        )
    frame = pd.DataFrame(rows)
    for c in columns:
        frame[c] = [_count_cell(v, h, label) for v, h in zip(frame[c], suppress(frame[c].tolist(), k), strict=True)]
    note = "Aantal meldingen per thema binnen elke sector; een melding kan bij meer sectoren horen."
    return Table("sector", "Per sector", frame, (), note)


def _role_table(data: TaggedReports, cb: Codebook, k: int, label: str) -> Table | None:
    if data.roles is None:
        return None
    roles, order = _roles(data, k)
    frame, *_ = _breakdown_rows(data, list(roles), order, k, label, None)
    # themes as rows, roles as columns: few roles, many themes
    body = frame.set_index("Groep").T.reset_index().rename(columns={"index": "Thema"})
    body.columns.name = None
    note = f"Aantal meldingen per thema per rol van de melder; rollen met minder dan {k} meldingen zijn samengevoegd."
    return Table("rol", "Per rol", body, (), note)


def _combination_table(data: TaggedReports, cb: Codebook, k: int) -> Table:
    content = [j for j, t in enumerate(data.theme_ids) if not t.startswith("sector_")]
    combos: Counter[tuple[str, ...]] = Counter()
    for row in data.assigned:
        ids = tuple(data.theme_ids[j] for j in content if row[j])
        if len(ids) >= 2:
            combos[ids] += 1
    n = len(data)
    shown = [(c, v) for c, v in combos.most_common() if v >= k][:TOP_COMBINATIONS]
    frame = pd.DataFrame(
        [
            {
                "Combinatie": " + ".join(cb[t].name for t in c),
                "Thema's": len(c),
                "Meldingen": v,
                "Aandeel": v / n if n else None,
            }
            for c, v in shown
        ],
        columns=["Combinatie", "Thema's", "Meldingen", "Aandeel"],
    )
    note = (
        f"Meldingen met precies deze combinatie van thema's (zonder sectoren); de {TOP_COMBINATIONS} meest "
        f"voorkomende met minstens {k} meldingen."
    )
    if not combos:
        empty = "Geen enkele melding heeft twee of meer thema's (sectoren niet meegerekend)."
    elif not shown:
        empty = (
            f"Geen combinatie van thema's komt in {k} of meer meldingen voor ({len(combos)} combinatie(s) met "
            f"minder meldingen blijven weg, zodat niemand herkenbaar is)."
        )
    else:
        empty = ""
    return Table("combinaties", "Meest voorkomende combinaties", frame, ("Aandeel",), note, empty)


def cooccurrence(assigned: np.ndarray) -> np.ndarray:
    """k x k: reports with both themes (the diagonal: reports with the theme)."""
    a = assigned.astype(int)
    return a.T @ a


def _cooccurrence_table(data: TaggedReports, cb: Codebook, k: int, label: str) -> tuple[Table, np.ndarray, np.ndarray]:
    matrix = cooccurrence(data.assigned)
    hidden = (matrix > 0) & (matrix < k)
    names = [cb[t].name for t in data.theme_ids]
    frame = pd.DataFrame(
        [
            [_count_cell(v, h, label) for v, h in zip(row, hrow, strict=True)]
            for row, hrow in zip(matrix, hidden, strict=True)
        ],
        columns=names,
    )
    frame.insert(0, "Thema", names)
    note = "Aantal meldingen met beide thema's; op de diagonaal het aantal meldingen met het thema."
    return Table("samen", "Thema's die samen voorkomen", frame, (), note), matrix, hidden


def _model_table(data: TaggedReports, cb: Codebook, model: ModelInfo) -> Table:
    rows = []
    for t in data.theme_ids:
        m = model.per_theme.get(t, {})
        rows.append(
            {
                "Thema": cb[t].name,
                "Id": t,
                "Precisie": m.get("precision"),
                "Recall": m.get("recall"),
                "F1": m.get("f1"),
                "Support (test)": int(m["support"]) if "support" in m else None,
            }
        )
    note = model.note or "Gemeten op de testset van het model (meta.json)."
    return Table("model", "Betrouwbaarheid van het model", pd.DataFrame(rows), (), note)


def _overview_table(report: Report) -> Table:
    m = report.model
    rows = [
        ("Bron", report.source),
        ("Periode", report.period_text),
        ("Meldingen in dit rapport", report.n_reports),
        ("Meldingen met minstens één thema", report.n_with_theme),
        ("Meldingen zonder (leesbare) datum", report.n_undated),
        ("Meldingen buiten de gekozen periode (niet meegeteld)", report.n_outside),
        ("Regels in het bestand", report.n_rows),
        ("Indeling in de tijd", PERIOD_TITLES[report.by]),
        ("Kleine aantallen verborgen", f"aantallen onder {report.min_count} als '{report.suppressed_label}'"),
        (
            "Met de hand gecontroleerd",
            f"{report.verification.verified} meldingen (aselecte steekproef, {report.verification.file})"
            if report.verification is not None
            else "nee: alle aantallen zijn die van het model",
        ),
        ("Model", f"{m.name} versie {m.version}" if m.available else f"onbekend ({m.note})"),
        ("Micro-F1 model (test)", m.micro_f1),
        ("Macro-F1 model (test)", m.macro_f1),
        ("Gemaakt op", nl_date(report.generated)),
    ]
    return Table("overzicht", "Overzicht", pd.DataFrame(rows, columns=["Onderdeel", "Waarde"]))


# --------------------------------------------------------------------------- methods notes


def _nl(x: float) -> str:
    return f"{x:.2f}".replace(".", ",")


def count_notes(report: Report) -> list[str]:
    """Plain Dutch sentences on where the counts come from and how to read their intervals."""
    v, est = report.verification, report.estimates
    if est is not None and v is not None:
        seed = f", seed {v.seed}" if v.seed is not None else ""
        shown = (
            "De controleurs zagen daarbij de keuzes van het model (voorgevuld)."
            if v.prefilled
            else "De controleurs zagen de keuzes van het model daarbij niet."
            if v.prefilled is False
            else ""
        )
        return [
            f"Met de hand gecontroleerd: {v.verified} van de {v.reports} meldingen, willekeurig gekozen (een aselecte "
            f"steekproef{seed}; bestand {v.file}). Bij die meldingen is nagelezen welke thema's er echt in staan. "
            + shown,
            "Geschat aantal: het aantal meldingen dat het model een thema gaf, gecorrigeerd voor de fouten die het "
            "model in de gecontroleerde meldingen maakte (prediction-powered inference, Angelopoulos e.a., Science "
            "2023). Geeft het model een thema vaak onterecht, dan ligt de schatting lager dan het getagde aantal; "
            "mist het model een thema vaak, dan hoger.",
            "95%-betrouwbaarheidsinterval: het echte aantal ligt met 95% zekerheid tussen de onder- en de bovengrens. "
            "Het interval omvat zowel het toeval van de steekproef als de fouten van het model. Noem in een "
            "lobbystuk het interval ('tussen 40 en 55 meldingen'), niet alleen de schatting. Vier keer zoveel "
            "gecontroleerde meldingen maakt het interval ongeveer half zo breed.",
        ]
    lines = []
    if v is not None and not v.used:
        lines.append(
            f"Er is een steekproef met de hand gecontroleerd ({v.file}), maar daarvan vallen maar {v.verified} "
            "meldingen in de gekozen periode: te weinig (minder dan 30) voor een betrouwbare schatting."
        )
    precision = {t: m["precision"] for t, m in report.model.per_theme.items() if "precision" in m}
    line = (
        "De aantallen zijn die van het model: niemand heeft ze met de hand gecontroleerd. Het model geeft soms een "
        "thema dat er niet in staat en mist soms een thema. De gemeten precisie per thema (kolom 'Precisie model') "
        "zegt welk deel van de getelde meldingen het thema echt heeft; bij 0,66 is een derde onterecht meegeteld."
    )
    if precision:
        low = sorted(precision, key=lambda t: precision[t])[:3]
        line += " Laagste precisie: " + ", ".join(f"{report.theme_names.get(t, t)} {_nl(precision[t])}" for t in low)
        line += ". Op meldingen in een andere schrijfstijl dan de testset is de precisie vaak lager."
    else:
        line += " Van dit model is geen precisie per thema bekend."
    lines.append(line)
    lines.append(
        "Het 95%-betrouwbaarheidsinterval (Wilson) geeft alleen het toeval weer, niet de fouten van het model. "
        "Voor aantallen met een interval dat ook die fouten dekt: laat een steekproef nalezen (meldtekst "
        "verify-sample) en maak het rapport met --verified."
    )
    return lines


def suppression_notes(report: Report) -> list[str]:
    """What '< 5' and '×' mean: '< 5' is always 1 to 4; '×' may hold any number."""
    k = report.min_count
    lines = [
        f"'< {k}' betekent altijd 1 tot en met {k - 1} meldingen; zo'n aantal staat er zonder aandeel en interval "
        "en wordt in de grafieken niet getekend."
    ]
    if report.secondary_used:
        lines.append(
            f"'{SECONDARY}' betekent: verborgen om een klein aantal elders in dezelfde reeks te beschermen (anders "
            f"zou het uit het totaal terug te rekenen zijn). Zo'n cel kan elk aantal bevatten, ook {k} of meer."
        )
    return lines


# --------------------------------------------------------------------------- the report

HIGHLIGHT_NOTE = (
    "Gemarkeerd: de woorden die volgens model {model} het thema het sterkst aanwijzen (hoeveel de score van het "
    "geanonimiseerde citaat daalt zonder die woorden)."
)


def _highlight_model(spec: str | Path | None, *, strict: bool, warnings: list[str]) -> ThemeModelDir | None:
    """The model that marks the quotes; one that cannot be loaded leaves them unmarked with a
    warning, or with ``strict`` (``--highlight`` asked for) fails the report with one line."""
    from meldtekst.errors import MeldtekstError
    from meldtekst.models.store import default_model_name, load_model

    name = str(spec) if spec is not None else default_model_name()
    try:
        return load_model(name)
    except (MeldtekstError, ImportError, OSError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        if strict:
            raise MeldtekstError(f"--highlight: cannot load model '{name}': {reason}") from None
        warnings.append(f"quotes are not highlighted: cannot load model '{name}' ({reason})")
        return None


def _as_date(value: dt.date | str | None, option: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    parsed = parse_date(value)
    if parsed is None:
        raise InputError(f"{option} '{value}' is not a date; write 2024-03-14 or 14-03-2024")
    return parsed


def build_report(
    path: str | Path,
    *,
    by: str = "kwartaal",
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    quotes: int = 0,
    min_count: int = 5,
    model: str | Path | None = None,
    sheet: str | None = None,
    charts: bool = True,
    highlight: bool | None = None,
    verified: str | Path | None = None,
) -> Report:
    """Count themes in a tagged file and build every table (and chart) of the report.

    ``verified``: the checked verification sample (`meldtekst verify-sample`); the themes and
    groups tables then carry estimated true counts with 95 % intervals (PPI++).

    ``highlight`` marks in each quote the words that raise its theme, measured by ``model``
    on the de-identified quote: None marks them when the model loads (else a warning),
    True fails when it does not, False never marks.
    """
    if by not in PERIODS:
        raise InputError(f"--by '{by}' is not one of {', '.join(PERIODS)}")
    if min_count < 1:
        raise InputError("--min-count must be at least 1")
    if quotes < 0:
        raise InputError("--quotes must be 0 or more")
    start, end = _as_date(date_from, "--from"), _as_date(date_to, "--to")
    if start and end and start > end:
        raise InputError(f"--from {start} is after --to {end}")
    cb = load_codebook()
    data = load_tagged(path, sheet=sheet)
    n_rows = len(data)
    if (start or end) and not data.has_date_column:
        raise InputError("--from/--to need a 'datum' column, and the file has none", path=path)
    if by == "rol" and data.roles is None:
        raise InputError("--by rol needs a 'rol' column, and the file has none", path=path)
    warnings = list(data.warnings)
    sample = None
    if verified is not None:
        from meldtekst.labelling.verification import read_verified

        sample = read_verified(verified, data)
        warnings.extend(sample.warnings)
    n_outside = 0
    if start or end:
        keep = np.array(
            [d is not None and (start is None or d >= start) and (end is None or d <= end) for d in data.dates],
            dtype=bool,
        )
        n_outside = int((~keep).sum())
        data = data.subset(keep)
    dated = [d for d in data.dates if d is not None]
    k = min_count
    label = f"< {k}"
    info = model_info(model)
    if not info.available:
        warnings.append(
            f"no measured F1 for the methods note; the report says the reliability is unknown ({info.spec})"
        )

    report = Report(
        source=Path(path).name,
        by=by,
        min_count=k,
        n_rows=n_rows,
        n_reports=len(data),
        n_undated=sum(d is None for d in data.dates),
        n_outside=n_outside,
        n_with_theme=int(data.assigned.any(axis=1).sum()),
        first_date=min(dated) if dated else None,
        last_date=max(dated) if dated else None,
        date_from=start,
        date_to=end,
        model=info,
        tables={},
        theme_names={t: cb[t].name for t in data.theme_ids},
        warnings=warnings,
    )
    if len(data) == 0:
        warnings.append("no reports in the chosen period")
    if sample is not None:
        from meldtekst.reporting.estimates import count_estimates

        estimates = count_estimates(data, sample)
        report.verification = Verification(
            Path(verified).name,  # type: ignore[arg-type]
            estimates.verified,
            len(data),
            sample.seed,
            sample.prefilled,
            sample.unchecked,
            used=estimates.corrected,
        )
        if estimates.corrected:
            report.estimates = estimates
        else:
            sample = None
            warnings.append(
                f"only {estimates.verified} verified report(s) in the chosen period: too few for estimates; "
                "the report shows the model's counts"
            )
    tables = report.tables
    tables["overzicht"] = _overview_table(report)
    tables["themas"] = _theme_table(data, cb, info, k, label, report.estimates)
    tables["groepen"] = _group_table(data, cb, k, label, sample)

    if by == "rol":
        roles, order = _roles(data, k)
        groups: list[str | None] = list(roles)
        extra = None
    else:
        keys = [period_key(d, by) if d is not None else None for d in data.dates]
        present = sorted({key for key in keys if key is not None})
        axis = period_range(present[0], present[-1], by) if present else []
        order = [period_label(key, by) for key in axis]
        groups = [period_label(key, by) if key is not None else None for key in keys]
        extra = UNDATED if report.n_undated else None
    frame, totals, counts, hidden, hidden_totals = _breakdown_rows(data, groups, order, k, label, extra)
    frame = frame.rename(columns={"Groep": "Rol" if by == "rol" else "Periode"})
    trend_note = "Aantal meldingen per periode en per thema." if by != "rol" else "Aantal meldingen per rol en thema."
    if report.estimates is not None:
        trend_note += (
            " Dit zijn de aantallen van het model, niet gecorrigeerd: een schatting per periode vraagt minstens "
            "30 gecontroleerde meldingen in die periode (meldtekst counts TAGGED --verified FILE --by ...)."
        )
    if by != "rol" and not data.has_date_column:
        trend_note = "Het bestand heeft geen kolom 'datum': alle meldingen staan onder 'zonder datum'."
    tables["trend"] = Table("trend", f"Verloop {PERIOD_TITLES[by]}", frame, (), trend_note)

    sector = _sector_table(data, cb, k, label)
    if sector is not None:
        tables["sector"] = sector
    if by != "rol":
        role = _role_table(data, cb, k, label)
        if role is not None:
            tables["rol"] = role
    tables["combinaties"] = _combination_table(data, cb, k)
    co_table, co_matrix, co_hidden = _cooccurrence_table(data, cb, k, label)
    tables["samen"] = co_table
    tables["model"] = _model_table(data, cb, info)

    if quotes:
        from meldtekst.reporting.quotes import pick_quotes

        if data.texts is None:
            warnings.append(
                "the file has no 'tekst' column: quotes are de-identified on their own, without the names "
                "found elsewhere in their report"
            )
        explainer = None if highlight is False else _highlight_model(model, strict=bool(highlight), warnings=warnings)
        report.quotes = pick_quotes(data, quotes, min_count=k, model=explainer)
        columns = ["Thema", "Citaat"]
        note = "Korte voorbeeldzinnen uit meldingen, met namen, plaatsen, instellingen en contactgegevens vervangen."
        if explainer is not None:
            report.highlighted_by = f"{explainer.name} (versie {explainer.version})"
            columns.append("Gemarkeerd")
            note += f" {HIGHLIGHT_NOTE.format(model=report.highlighted_by)}"
        rows = [
            {"Thema": cb[t].name, "Citaat": q.text, "Gemarkeerd": "; ".join(s.text for s in q.spans)}
            for t, qs in report.quotes.items()
            for q in qs
        ]
        empty = (
            ""
            if rows
            else (
                f"Geen citaten: geen thema heeft {k} of meer meldingen met een bewijszin van minstens vijf woorden "
                "die na het anonimiseren nog iets zegt."
            )
        )
        tables["citaten"] = Table(
            "citaten", "Citaten (geanonimiseerd)", pd.DataFrame(rows, columns=columns), (), note, empty
        )

    report.secondary_used = any((t.frame == SECONDARY).to_numpy().any() for t in tables.values() if not t.frame.empty)
    if charts:
        from meldtekst.reporting import charts as ch

        report.charts = ch.all_charts(
            report,
            data,
            order + ([extra] if extra else []),
            totals,
            counts,
            hidden,
            hidden_totals,
            co_matrix,
            co_hidden,
        )
    return report
