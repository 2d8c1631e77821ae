"""One self-contained Dutch HTML page: inline CSS, charts as base64 PNG, no external URL at all,
so the file can be mailed and opened offline in any browser."""

from __future__ import annotations

import base64
from html import escape
from typing import TYPE_CHECKING

from meldtekst.reporting.counts import (
    HIGHLIGHT_NOTE,
    PERIOD_TITLES,
    SECONDARY,
    Report,
    Table,
    count_notes,
    nl_date,
    suppression_notes,
)
from meldtekst.reporting.format import LOW_F1, cell, number

if TYPE_CHECKING:
    from meldtekst.reporting.quotes import Quote

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1f2933;margin:0;background:#f7f8fa}
main{max-width:1100px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:1.7em;margin:0 0 4px}h2{margin-top:2.2em;border-bottom:2px solid #2f6690;padding-bottom:4px}
p.lead{color:#52606d;margin-top:0}nav a{margin-right:12px;color:#2f6690}
.kpis{display:flex;gap:16px;flex-wrap:wrap;margin:20px 0}
.kpi{background:#eef3f8;border-radius:6px;padding:10px 16px;min-width:150px}
.kpi b{display:block;font-size:1.6em;color:#2f6690}
.wrap{overflow-x:auto;margin:8px 0 4px}
table{border-collapse:collapse;font-size:.86em}
th,td{border-bottom:1px solid #d9e2ec;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f4f8;position:sticky;top:0}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.laag{color:#b44d12;font-weight:600}
td.leeg{color:#52606d;font-style:italic}
p.geen{color:#52606d;font-style:italic}
p.note{color:#52606d;font-size:.85em;margin-top:4px}
img{max-width:100%;height:auto;margin:8px 0}
details{margin:8px 0}summary{cursor:pointer;color:#2f6690}
blockquote{border-left:3px solid #9aa5b1;margin:6px 0;padding:2px 12px;color:#323f4b}
blockquote mark{background:#ffe082;color:inherit;border-radius:3px;padding:0 1px}
footer{margin-top:40px;color:#7b8794;font-size:.8em}
"""

_SECTIONS = (
    ("themas", "Thema's"),
    ("groepen", "Groepen"),
    ("trend", "Verloop"),
    ("samen", "Samen"),
    ("sector", "Sector"),
    ("rol", "Rol"),
    ("combinaties", "Combinaties"),
    ("citaten", "Citaten"),
    ("methode", "Methode"),
)


def _is_mark(value: object) -> bool:
    """A hidden count ("< 5" or "×"): text that stands for a number, so it aligns like one."""
    return isinstance(value, str) and (value == SECONDARY or value.startswith("< "))


def _table_html(table: Table, *, low_f1_column: str | None = None) -> str:
    frame = table.frame
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = []
    for values in frame.itertuples(index=False, name=None):
        cells = []
        for column, value in zip(frame.columns, values, strict=True):
            text = escape(cell(value, column, table.percent))
            numeric = not isinstance(value, str) or _is_mark(value)
            classes = ["n"] if numeric else []
            if column == low_f1_column and isinstance(value, float) and value < LOW_F1:
                classes.append("laag")
            attr = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{attr}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        why = table.empty or "Deze tabel is leeg."
        body.append(f'<tr><td class="leeg" colspan="{len(frame.columns)}">{escape(why)}</td></tr>')
    return f'<div class="wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _img(report: Report, key: str) -> str:
    chart = report.charts.get(key)
    if chart is None:
        note = report.chart_notes.get(key)
        return f'<p class="geen">{escape(note)}</p>' if note else ""
    data = base64.b64encode(chart.png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(chart.alt)}">'


def _section(report: Report, key: str, heading: str, intro: str = "", *, collapse: bool = False) -> str:
    table = report.tables.get(key)
    if table is None:
        return ""
    parts = [f'<section id="{key}"><h2>{escape(heading)}</h2>']
    if intro:
        parts.append(f"<p>{intro}</p>")
    parts.append(_img(report, key))
    rendered = _table_html(table, low_f1_column="F1 model" if key == "themas" else None)
    if collapse:
        rendered = f"<details><summary>Tabel tonen</summary>{rendered}</details>"
    parts.append(rendered)
    if table.note:
        parts.append(f'<p class="note">{escape(table.note)}</p>')
    parts.append("</section>")
    return "".join(parts)


def _quotes_html(report: Report) -> str:
    if not report.quotes:
        return ""
    parts = ['<section id="citaten"><h2>Citaten</h2>']
    parts.append(
        '<p class="note">Korte voorbeeldzinnen uit meldingen; namen, plaatsen, scholen en instellingen, datums, '
        "leeftijden en contactgegevens zijn vervangen door [PERSOON], [LOCATIE], [INSTELLING] enzovoort.</p>"
    )
    if report.highlighted_by:
        parts.append(f'<p class="note">{escape(HIGHLIGHT_NOTE.format(model=report.highlighted_by))}</p>')
    for theme, quotes in report.quotes.items():
        parts.append(f"<h3>{escape(report.theme_names[theme])}</h3>")
        parts.extend(f"<blockquote>{quote_html(q)}</blockquote>" for q in quotes)
    parts.append("</section>")
    return "".join(parts)


def quote_html(quote: Quote) -> str:
    """The quote with its highlights as ``<mark>``; every piece is escaped on its own, so a
    mark can neither split an entity nor let text through as markup."""
    return "".join(f"<mark>{escape(piece)}</mark>" if marked else escape(piece) for piece, marked in quote.segments())


def _methods_html(report: Report) -> str:
    m = report.model
    k = report.min_count
    if m.available:
        model = (
            f"De thema's zijn toegekend door het model <b>{escape(m.name)}</b> (versie {escape(m.version)}). "
            "Een model maakt fouten: de F1-score per thema (gemeten op een testset"
            + (f" van {m.test_rows} meldingen" if m.test_rows else "")
            + ") zegt hoe goed het model dat thema herkent; 1 is perfect. "
            f"Bij een F1 onder {number(LOW_F1)} (oranje) zijn de aantallen grove schattingen."
        )
        if m.micro_f1 is not None:
            model += f" Over alle thema's samen: micro-F1 {number(m.micro_f1)}, macro-F1 {number(m.macro_f1)}."
        if m.note:
            model += f" Let op: {escape(m.note)}."
    else:
        model = (
            f"Van het model zijn geen meetgegevens beschikbaar ({escape(m.note)}); "
            "hoe betrouwbaar de aantallen per thema zijn, is daarom onbekend."
        )
    items = [
        *(escape(line) for line in count_notes(report)),
        model,
        "Het aandeel is het aantal meldingen met een thema gedeeld door alle meldingen in de periode.",
        "Een melding kan meerdere thema's hebben; de aantallen tellen dus niet op tot het totaal.",
        "Privacy: "
        + " ".join(escape(line) for line in suppression_notes(report))
        + f" Rollen met minder dan {k} meldingen zijn samengevoegd. Het rapport bevat geen meldingstekst"
        + (", behalve de geanonimiseerde citaten." if report.quotes else "."),
        f"Datums komen uit de kolom 'datum' (2024-03-14 of 14-03-2024). {report.n_undated} melding(en) zonder "
        "(leesbare) datum tellen mee in de totalen maar niet in het verloop in de tijd."
        + (
            f" {report.n_outside} melding(en) vielen buiten de gekozen periode en tellen niet mee."
            if report.date_from or report.date_to
            else ""
        ),
        "Een schooljaar loopt van 1 augustus tot en met 31 juli.",
    ]
    parts = ['<section id="methode"><h2>Methode en betrouwbaarheid</h2><ul>']
    parts.extend(f"<li>{item}</li>" for item in items)
    parts.append("</ul>")
    table = report.tables.get("model")
    if table is not None and m.available and m.per_theme:
        parts.append("<details><summary>Meetgegevens van het model per thema</summary>")
        parts.append(_table_html(table, low_f1_column="F1"))
        parts.append("</details>")
    parts.append("</section>")
    return "".join(parts)


def render_html(report: Report) -> str:
    """The whole report as one HTML string."""
    k = report.min_count
    title = f"Meldingen dwang en drang: thema's, {report.period_text}"
    kpis = [
        (number(report.n_reports), "meldingen"),
        (number(report.n_with_theme), "met minstens één thema"),
        (number(report.n_undated), "zonder datum"),
    ]
    if report.date_from or report.date_to:
        kpis.append((number(report.n_outside), "buiten de periode"))
    present = {key for key in report.tables} | ({"citaten"} if report.quotes else set()) | {"methode"}
    nav = " ".join(f'<a href="#{key}">{escape(label)}</a>' for key, label in _SECTIONS if key in present)
    body = [
        f"<h1>Meldingen over dwang en drang</h1><p class='lead'>Periode {escape(report.period_text)} · "
        f"{number(report.n_reports)} meldingen · bron: {escape(report.source)}</p>",
        f"<nav>{nav}</nav>",
        '<div class="kpis">' + "".join(f'<div class="kpi"><b>{v}</b>{escape(t)}</div>' for v, t in kpis) + "</div>",
        _section(
            report,
            "themas",
            "Thema's",
            (
                "Hoeveel meldingen over elk thema gaan: het aantal dat het model vond en het geschatte echte aantal "
                f"met een 95%-interval, op grond van {report.estimates.verified} met de hand gecontroleerde "
                "meldingen."
                if report.estimates is not None
                else "Hoeveel meldingen over elk thema gaan volgens het model (niet met de hand gecontroleerd)."
            )
            + f" Aantallen onder {k} staan er als '&lt; {k}'.",
        ),
        _section(report, "groepen", "Groepen van thema's"),
        _section(report, "trend", f"Verloop {PERIOD_TITLES[report.by]}", collapse=True),
        _section(report, "samen", "Thema's die samen voorkomen", collapse=True),
        _section(report, "sector", "Per sector"),
        _section(report, "rol", "Per rol van de melder"),
        _section(report, "combinaties", "Meest voorkomende combinaties van thema's"),
        _quotes_html(report),
        _methods_html(report),
        f"<footer>Gemaakt met meldtekst op {nl_date(report.generated)}. "
        + (
            "De geschatte aantallen rusten op het model en een met de hand gecontroleerde steekproef; zie de methode."
            if report.estimates is not None
            else "Alle aantallen zijn die van een taalmodel, niet met de hand gecontroleerd; zie de methode."
        )
        + "</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
